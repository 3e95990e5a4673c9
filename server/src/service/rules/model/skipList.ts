// The modules a config leaves unquantized, as transformers 5.23 computes it: lm_head always, plus the
// config's modules_to_not_convert / llm_int8_skip_modules.
import type { ConfigSite } from '../../model';
import { effective } from '../values';

export function skipListOf(site: ConfigSite): string[] {
  const listed = ['modules_to_not_convert', 'llm_int8_skip_modules'].flatMap((key) => {
    const value = effective(site, key)?.value;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  });
  return ['lm_head', ...listed];
}
