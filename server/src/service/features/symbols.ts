// Document symbols: each config site (a quantization config object or a config call) and its keys.
import { SymbolKind } from 'vscode-languageserver-types';
import type { DocumentSymbol } from 'vscode-languageserver-types';
import type { ConfigSite } from '../model';
import type { ParsedDocument } from '../parse/document';

const SITE_NAME: Readonly<Record<string, string>> = {
  'model-config': 'quantization_config',
  job: 'quantization_config',
  'autogptq-quantize-config': 'quantize_config',
  'autoawq-quant-config': 'quant_config',
};

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
}

function siteName(site: ConfigSite, doc: ParsedDocument): string {
  if (site.fileKind !== 'python') return SITE_NAME[site.fileKind];
  const start = doc.lines.offsetAt(site.anchorRange.start);
  return doc.lines.text.slice(start, doc.lines.offsetAt(site.anchorRange.end));
}

export function symbols(doc: ParsedDocument): DocumentSymbol[] {
  return doc.sites.map((site) => ({
    name: siteName(site, doc),
    detail: typeof site.method === 'string' ? site.method : site.method.other,
    kind: SymbolKind.Object,
    range: site.range,
    selectionRange: site.anchorRange,
    children: site.entries.map((entry) => ({
      name: entry.key,
      detail: shorten(entry.valueText),
      kind: SymbolKind.Property,
      range: entry.range,
      selectionRange: entry.keyRange,
    })),
  }));
}
