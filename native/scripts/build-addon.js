#!/usr/bin/env node
// Builds the native engine addon with node-gyp (run by `npm install`, or `npm run build:native`).
// Builds incrementally; skips the build when the addon is newer than every source unless --force is
// given (which reconfigures), and turns a missing compiler or Python into a message that says what to install.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const nativeDir = path.join(__dirname, '..');
const addonPath = path.join(nativeDir, 'build', 'Release', 'quantstudio.node');
const force = process.argv.includes('--force');

function newestSourceTime() {
  let newest = 0;
  const visit = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (/\.(cc|h|gyp)$/.test(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  visit(path.join(nativeDir, 'src'));
  return Math.max(newest, fs.statSync(path.join(nativeDir, 'binding.gyp')).mtimeMs);
}

function has(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.status === 0;
}

if (!force && fs.existsSync(addonPath) && fs.statSync(addonPath).mtimeMs >= newestSourceTime()) {
  console.log('quantstudio: native engine is up to date');
  process.exit(0);
}

const missing = [];
if (!has('c++', ['--version']) && !has('g++', ['--version'])) missing.push('a C++17 compiler (Debian/Ubuntu: apt-get install g++ make)');
if (!has('make', ['--version'])) missing.push('make (Debian/Ubuntu: apt-get install make)');
if (!has('python3', ['--version'])) missing.push('python3 (node-gyp needs it to generate the build)');
if (missing.length > 0) {
  console.error('quantstudio: cannot build the native engine; missing:\n  - ' + missing.join('\n  - '));
  console.error('Install them and run `npm run build:native`. Validation and estimates work without the engine.');
  process.exit(1);
}

const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
const jobs = String(Math.max(1, require('os').cpus().length));
// Use the running node's own headers when it ships them (Debian/NodeSource do): node-gyp would
// otherwise download them, which fails on machines that reach only package registries.
const prefix = path.dirname(path.dirname(process.execPath));
const nodedir = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];

function gyp(args) {
  const result = spawnSync(process.execPath, [nodeGyp, ...args, ...nodedir], { cwd: nativeDir, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('quantstudio: the native engine build failed (see the compiler output above).');
    process.exit(result.status ?? 1);
  }
}

// Configure only when the list of sources changed (binding.gyp lists them at configure time); otherwise
// make rebuilds just the files that changed.
const sources = require('child_process').execFileSync(process.execPath, [path.join(__dirname, 'list-sources.js')], { encoding: 'utf8' });
const stamp = path.join(nativeDir, 'build', 'configured-sources.txt');
const configured =
  fs.existsSync(path.join(nativeDir, 'build', 'Makefile')) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === sources;
if (force || !configured) {
  gyp(['configure']);
  fs.writeFileSync(stamp, sources);
}
gyp(['build', '--jobs', jobs]);
