// The architecture map (README.md, between the architecture-map markers) against the tree: every source
// file lies in a folder on the map, imports only what its row lists and only through the imported folder's
// face; napi.h only under native/src/bindings; package.json's commands and settings equal
// server/src/protocol.ts, and the extension registers and reads every one of them.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { COMMANDS, DEFAULT_SETTINGS, LIBRARY_SETTINGS } from '../../server/src/protocol';
import { readSettings } from '../../client/src/extension/settings';

const root = path.join(__dirname, '..', '..', '..');

interface Row {
  folder: string;
  /** The one file other folders may import ('' = none may). */
  face: string;
  may: string[];
}

function readMap(readme: string): Row[] {
  const begin = readme.indexOf('<!-- architecture-map:begin -->');
  const end = readme.indexOf('<!-- architecture-map:end -->');
  assert.ok(begin >= 0 && end > begin, 'README.md has no architecture map between its markers');
  const names = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  return readme
    .slice(begin, end)
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [folder, face, may] = line.split('|').slice(1, 4);
      return { folder: names(folder)[0], face: names(face)[0] ?? '', may: names(may) };
    });
}

/** The row a path lies in: the longest folder that is the path or holds it. */
function rowOf(rows: readonly Row[], file: string): Row | undefined {
  return rows.filter((r) => file === r.folder || file.startsWith(`${r.folder}/`)).sort((a, b) => b.folder.length - a.folder.length)[0];
}

/** The face's path: the folder's face file, or the folder itself when the row is a single file. */
function facePath(row: Row): string {
  return row.folder.endsWith('.ts') ? row.folder : `${row.folder}/${row.face}`;
}

/** Files by repository-relative path → their text. */
type Tree = ReadonlyMap<string, string>;

const PACKAGE_HOMES: ReadonlyArray<{ pattern: RegExp; home: string }> = [
  { pattern: /^vscode$/, home: 'client/src/extension' },
  { pattern: /^vscode-languageclient(\/|$)/, home: 'client/src/extension' },
  { pattern: /^vscode-languageserver(\/|$)/, home: 'server/src/lsp' },
];

/** Every way the TS sources and the C++ sources disagree with the map, as readable lines. */
function violations(rows: readonly Row[], tree: Tree): string[] {
  const found: string[] = [];
  const resolveTs = (from: string, spec: string): string => {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
    for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) if (tree.has(candidate)) return candidate;
    return `${base}.ts`;
  };
  for (const [file, text] of tree) {
    const own = rowOf(rows, file);
    if (!own) {
      found.push(`${file}: in no folder of the map`);
      continue;
    }
    if (file.endsWith('.ts')) {
      for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)) {
        const spec = m[1];
        if (!spec.startsWith('.')) {
          const home = PACKAGE_HOMES.find((p) => p.pattern.test(spec))?.home;
          if (home && own.folder !== home) found.push(`${file}: imports ${spec}, which only ${home} may`);
          continue;
        }
        const target = resolveTs(file, spec);
        const other = rowOf(rows, target);
        if (!other) found.push(`${file}: imports ${target}, which is in no folder of the map`);
        else if (other !== own) {
          if (!own.may.includes(other.folder)) found.push(`${file}: imports ${target}, but ${own.folder} may not import ${other.folder}`);
          else if (!other.face || target !== facePath(other))
            found.push(`${file}: imports ${target}; outside ${other.folder} import only ${other.face ? facePath(other) : 'nothing'}`);
        }
      }
    } else {
      for (const m of text.matchAll(/^#include\s+([<"])([^>"]+)[>"]/gm)) {
        if (m[2] === 'napi.h' && own.folder !== 'native/src/bindings') found.push(`${file}: includes napi.h outside native/src/bindings`);
        if (m[1] !== '"') continue;
        const other = rowOf(rows, `native/src/${m[2]}`);
        if (!other) found.push(`${file}: includes ${m[2]}, which is in no folder of the map`);
        else if (other !== own && !own.may.includes(other.folder))
          found.push(`${file}: includes ${m[2]}, but ${own.folder} may not include ${other.folder}`);
      }
    }
  }
  return found;
}

function walk(dir: string, keep: (name: string) => boolean): string[] {
  if (!fs.existsSync(path.join(root, dir))) return [];
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return walk(rel, keep);
    return keep(e.name) ? [rel] : [];
  });
}

function sourceTree(): Map<string, string> {
  const ts = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.d.ts');
  const cc = (name: string): boolean => /\.(cc|h)$/.test(name);
  const files = [
    ...['client/src', 'server/src', 'native/lib', 'native/model', 'native/worker'].flatMap((d) => walk(d, ts)),
    ...walk('native/src', cc),
  ];
  return new Map(files.map((f) => [f, fs.readFileSync(path.join(root, f), 'utf8')]));
}

const map = readMap(fs.readFileSync(path.join(root, 'README.md'), 'utf8'));

test('the map names existing folders, each once, and lists only folders of the map', () => {
  assert.ok(map.length >= 10, `the map has ${map.length} rows`);
  const folders = map.map((r) => r.folder);
  assert.deepEqual(
    folders.filter((f, i) => folders.indexOf(f) !== i),
    [],
  );
  for (const row of map) {
    assert.ok(fs.existsSync(path.join(root, row.folder)), `${row.folder} does not exist`);
    if (row.face) assert.ok(fs.existsSync(path.join(root, facePath(row))), `${row.folder}'s face ${facePath(row)} does not exist`);
    for (const may of row.may) assert.ok(folders.includes(may), `${row.folder} may import ${may}, which is not on the map`);
  }
});

test('every source file keeps to the map: its folder, what it may import, and only through faces', () => {
  const tree = sourceTree();
  assert.ok(tree.size > 200, `found only ${tree.size} source files`);
  assert.deepEqual(violations(map, tree), []);
});

test('the check finds a wall crossed, a face bypassed, a file off the map and napi.h outside bindings', () => {
  const tree = new Map([
    ['server/src/service/modelAware/x.ts', "import { loadAddon } from '../../../../native/lib';\n"],
    ['client/src/extension/y.ts', "import { startJob } from '../jobs/runner';\nimport * as vscode from 'vscode';\n"],
    ['client/src/jobs/runner.ts', "import type * as vscode from 'vscode';\n"],
    ['client/src/extension/ok.ts', "import { startJob } from '../jobs';\nimport type { Job } from '../../../native/worker/protocol';\n"],
    ['client/src/jobs/index.ts', ''],
    ['native/lib/index.ts', ''],
    ['native/worker/protocol.ts', ''],
    ['docs/z.ts', ''],
    ['native/src/kernels/k.cc', '#include <napi.h>\n#include "runtime/model.h"\n#include "core/dtype.h"\n'],
  ]);
  assert.deepEqual(violations(map, tree), [
    'server/src/service/modelAware/x.ts: imports native/lib/index.ts, but server/src/service may not import native/lib',
    'client/src/extension/y.ts: imports client/src/jobs/runner.ts; outside client/src/jobs import only client/src/jobs/index.ts',
    'client/src/jobs/runner.ts: imports vscode, which only client/src/extension may',
    'docs/z.ts: in no folder of the map',
    'native/src/kernels/k.cc: includes napi.h outside native/src/bindings',
    'native/src/kernels/k.cc: includes runtime/model.h, but native/src/kernels may not include native/src/runtime',
  ]);
});

interface Manifest {
  contributes: {
    commands: Array<{ command: string }>;
    menus: Record<string, Array<{ command: string }>>;
    configuration: {
      properties: Record<string, { default?: unknown; minimum?: number; maximum?: number; enum?: string[]; items?: { type?: string } }>;
    };
  };
}
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;

test('package.json declares exactly the commands of server/src/protocol.ts, and its menus name only those', () => {
  const declared = new Set(manifest.contributes.commands.map((c) => c.command));
  assert.deepEqual([...declared].sort(), Object.values(COMMANDS).sort());
  for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
    for (const item of items) assert.ok(declared.has(item.command), `menu ${menu} names ${item.command}, which is not declared`);
  }
});

test('the extension registers every command once, by its protocol name, and no source spells an id itself', () => {
  const extension = fs.readFileSync(path.join(root, 'client/src/extension/extension.ts'), 'utf8');
  const registered = [...extension.matchAll(/\bcommand\(COMMANDS\.(\w+)/g)].map((m) => m[1]).sort();
  assert.deepEqual(registered, Object.keys(COMMANDS).sort());
  const ids = new Set<string>(Object.values(COMMANDS));
  const spelled = [...sourceTree()]
    .filter(([file]) => file.endsWith('.ts') && file !== 'server/src/protocol.ts')
    .flatMap(([file, text]) =>
      [...text.matchAll(/['"`](quantstudio\.[\w.]+)['"`]/g)].filter((m) => ids.has(m[1])).map((m) => `${file}: ${m[1]}`),
    );
  assert.deepEqual(spelled, []);
});

/** 'validation.enable' → true, … for every leaf of the settings object. */
function flatten(value: object, prefix = ''): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).flatMap(([key, v]) =>
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? Object.entries(flatten(v as object, `${prefix}${key}.`))
        : [[`${prefix}${key}`, v]],
    ),
  );
}

test('package.json declares exactly the settings of server/src/protocol.ts, with the same defaults', () => {
  const declared = Object.fromEntries(Object.entries(manifest.contributes.configuration.properties).map(([key, p]) => [key, p.default]));
  const inCode = Object.fromEntries(
    Object.entries({ ...flatten(DEFAULT_SETTINGS), ...LIBRARY_SETTINGS }).map(([key, v]) => [`quantstudio.${key}`, v]),
  );
  assert.deepEqual(declared, inCode);
});

test("the extension's settings reader reads every setting: a value set for one key shows up there and nowhere else", () => {
  const defaults = flatten(DEFAULT_SETTINGS);
  assert.deepEqual(flatten(readSettings({ get: <T>() => undefined as T | undefined })), defaults);
  for (const [key, fallback] of Object.entries(defaults)) {
    const schema = manifest.contributes.configuration.properties[`quantstudio.${key}`];
    let value: unknown;
    if (typeof fallback === 'boolean') value = !fallback;
    else if (typeof fallback === 'string') value = schema.enum ? schema.enum.find((v) => v !== fallback) : `${fallback}x`;
    else if (Array.isArray(fallback)) value = schema.items?.type === 'string' ? ['https://a.example', 'https://b.example'] : [2, 4];
    else value = schema.maximum !== undefined ? (Number(schema.minimum ?? 0) + schema.maximum) / 2 : Number(fallback) + 3;
    const read = flatten(readSettings({ get: <T>(k: string) => (k === key ? value : undefined) as T | undefined }));
    assert.deepEqual(read, { ...defaults, [key]: value }, `setting ${key}`);
  }
});

test('panels: only host.ts touches vscode; the other modules build HTML', () => {
  const touching = [...sourceTree()]
    .filter(([file, text]) => file.startsWith('client/src/extension/panels/') && /from ['"]vscode['"]/.test(text))
    .map(([file]) => file);
  assert.deepEqual(touching, ['client/src/extension/panels/host.ts']);
});

test('every registered command runs a module under extension/commands/ (or is a one-line inline action)', () => {
  const extension = fs.readFileSync(path.join(root, 'client/src/extension/extension.ts'), 'utf8');
  const from = new Map<string, string>();
  for (const m of extension.matchAll(/^import \{([^}]+)\} from '([^']+)';/gm))
    for (const name of m[1].split(',')) from.set(name.trim(), m[2]);
  const handlers = [...extension.matchAll(/\bcommand\(COMMANDS\.\w+, (?:async )?\(\w*\) => (?:\(await )?(\w+)\(/g)].map((m) => m[1]);
  assert.ok(handlers.length >= 10, `found ${handlers.length} handlers`);
  const outside = handlers.filter((h) => from.has(h) && !from.get(h)!.startsWith('./commands/'));
  assert.deepEqual(outside, []);
});

test('each TypeScript project references only what the map lets its folders import', () => {
  const projects: Record<string, string[]> = {
    'native/lib': ['native/lib'],
    'native/model': ['native/model'],
    'native/worker': ['native/worker'],
    server: ['server/src/protocol.ts', 'server/src/service', 'server/src/lsp'],
    client: ['client/src/jobs', 'client/src/cli', 'client/src/extension'],
  };
  const strip = (text: string): string => text.replace(/^\s*\/\/.*$/gm, '');
  for (const [project, folders] of Object.entries(projects)) {
    const config = JSON.parse(strip(fs.readFileSync(path.join(root, project, 'tsconfig.json'), 'utf8'))) as {
      references?: Array<{ path: string }>;
    };
    const allowed = new Set(folders.flatMap((f) => map.find((r) => r.folder === f)?.may ?? []));
    for (const ref of config.references ?? []) {
      const target = path.posix.normalize(path.posix.join(project, ref.path)).replace(/\/tsconfig(\.\w+)?\.json$/, '');
      const covered = [...allowed].some(
        (a) => a === target || a.startsWith(`${target}/`) || target.startsWith(`${a}/`) || target === project,
      );
      assert.ok(covered, `${project}/tsconfig.json references ${target}, which the map does not let ${project} import`);
    }
  }
});
