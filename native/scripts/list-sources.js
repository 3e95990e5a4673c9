// Prints every C++ source under native/src (relative to native/) for binding.gyp.
const fs = require('fs');
const path = require('path');

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return walk(full);
    return entry.name.endsWith('.cc') ? [full] : [];
  });
}

const root = path.join(__dirname, '..');
console.log(
  walk(path.join(root, 'src'))
    .map((f) => path.relative(root, f))
    .sort()
    .join(' '),
);
