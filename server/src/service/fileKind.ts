// Which of our config kinds a document is, decided by its file name alone (as the libraries do: they
// look for these exact names in a model folder).
import type { FileKind } from './model';

/** Exact file names → kind. config.json is ours only when it holds a quantization_config object. */
const KIND_BY_NAME: Readonly<Record<string, FileKind>> = {
  'config.json': 'model-config',
  'quantize_config.json': 'autogptq-quantize-config',
  'quant_config.json': 'autoawq-quant-config',
};

/** The file name at the end of a URI or path ('file:///a/b%20c/config.json' → 'config.json'). */
export function baseName(uriOrPath: string): string {
  const withoutQuery = uriOrPath.replace(/[?#].*$/, '');
  const last = withoutQuery.split(/[\\/]/).pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export function fileKindOf(uriOrPath: string): FileKind | undefined {
  const name = baseName(uriOrPath);
  const exact = KIND_BY_NAME[name];
  if (exact) return exact;
  if (name.endsWith('.quant.json') && name.length > '.quant.json'.length) return 'job';
  if (name.endsWith('.py') || name.endsWith('.pyi')) return 'python';
  return undefined;
}

/**
 * A cheap look at a file we will not parse (too large, too deep): could it hold a quantization config?
 * A config.json or a .py file that cannot is not ours, so it gets no note either.
 */
export function mayHoldConfig(kind: FileKind, text: string): boolean {
  if (kind === 'model-config') return text.includes('"quantization_config"');
  if (kind === 'python') return /\b(GPTQConfig|AwqConfig|BitsAndBytesConfig)\s*\(/.test(text);
  return true;
}
