// Removes build/ so that files deleted from src/ do not linger in the output.
import fs from 'node:fs';
fs.rmSync(new URL('../build', import.meta.url), { recursive: true, force: true });
