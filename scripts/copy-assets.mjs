// Copies the Python helpers (real .py files under src/runtime/python) next to the compiled code,
// and marks the entries executable.
import fs from 'node:fs';
const from = new URL('../src/runtime/python/', import.meta.url);
const to = new URL('../build/runtime/python/', import.meta.url);
fs.mkdirSync(to, { recursive: true });
for (const name of fs.readdirSync(from)) {
  if (name.endsWith('.py')) fs.copyFileSync(new URL(name, from), new URL(name, to));
}
for (const entry of ['bin.js', 'index.js']) fs.chmodSync(new URL(`../build/${entry}`, import.meta.url), 0o755);
