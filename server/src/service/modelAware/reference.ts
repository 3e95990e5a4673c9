// Which model a document's config targets, read from the document alone (no I/O):
//   config.json / quantize_config.json / quant_config.json → the folder the file lives in (a candidate:
//     it counts only if that folder holds a model, which the resolver checks);
//   quantize_config.json `model_name_or_path` → that model;
//   a job file's `model` → that model, relative to the job file;
//   Python → the from_pretrained("...") argument the config call is passed to;
//   else the quantstudio.model setting.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Range } from '../model';
import type { ParsedDocument } from '../parse/document';

export type ReferenceOrigin = 'own-folder' | 'model_name_or_path' | 'job-model' | 'from_pretrained' | 'setting';

export interface ModelReference {
  /** Folder path or hub id, as written. */
  ref: string;
  /** Folder relative paths are resolved against (the document's folder; the workspace for the setting). */
  baseDir: string | undefined;
  origin: ReferenceOrigin;
  /** Where the reference is written (the document start for the own folder and the setting). */
  range: Range;
}

const START: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** The local folder of a file: URI; undefined for untitled or remote documents. */
export function folderOfUri(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return dirname(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

function stringAt(doc: ParsedDocument, key: string): { ref: string; range: Range } | undefined {
  const value = doc.documentValue;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const ref = (value as Record<string, unknown>)[key];
  const range = doc.rangeOf(undefined, [key], 'value');
  return typeof ref === 'string' && ref.trim() !== '' && range ? { ref: ref.trim(), range } : undefined;
}

/**
 * The model references of a parsed document, most specific first: what the file names, else its own folder
 * (a candidate only: it counts when it holds a model), else the quantstudio.model setting.
 */
export function modelReferencesOf(
  doc: ParsedDocument,
  uri: string,
  settingModel: string | undefined,
  workspaceDir?: string,
): ModelReference[] {
  const folder = folderOfUri(uri);
  const named = namedReference(doc, folder);
  if (named) return [named];
  const candidates: ModelReference[] = [];
  if (folder && doc.kind !== 'job' && doc.kind !== 'python')
    candidates.push({ ref: folder, baseDir: folder, origin: 'own-folder', range: START });
  const setting = settingModel?.trim();
  if (setting) candidates.push({ ref: setting, baseDir: workspaceDir ?? folder, origin: 'setting', range: START });
  return candidates;
}

function namedReference(doc: ParsedDocument, folder: string | undefined): ModelReference | undefined {
  if (doc.kind === 'job') {
    const model = stringAt(doc, 'model');
    return model && { ...model, baseDir: folder, origin: 'job-model' };
  }
  if (doc.kind === 'autogptq-quantize-config') {
    const model = stringAt(doc, 'model_name_or_path');
    return model && { ...model, baseDir: folder, origin: 'model_name_or_path' };
  }
  if (doc.kind === 'python') {
    const target = doc.sites.find((s) => s.modelReference)?.modelReference;
    return target && { ...target, baseDir: folder, origin: 'from_pretrained' };
  }
  return undefined;
}
