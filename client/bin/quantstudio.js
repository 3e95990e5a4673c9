#!/usr/bin/env node
// The `quantstudio` command: runs the compiled CLI (npm install / npm run build produce out/).
const path = require('path');
const fs = require('fs');

const entry = path.join(__dirname, '..', '..', 'out', 'client', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  console.error('quantstudio: the CLI is not built yet; run `npm install` (or `npm run build`) in ' + path.join(__dirname, '..', '..'));
  process.exit(2);
}
require(entry)
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (error) => {
      console.error('quantstudio: ' + (error && error.message ? error.message : String(error)));
      process.exit(2);
    },
  );
