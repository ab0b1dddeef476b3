import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Pyodide's WebAssembly, compiled once in the executor process and handed to every worker, which
 * then only instantiates it. Started when this module is first imported, so that the compile (on
 * V8's background threads) overlaps the executor's own start-up rather than a worker's: measured,
 * ~50–100 ms off a cold start. Undefined if it cannot be compiled here: each worker then compiles
 * it itself, as Pyodide does by default.
 */
export const pyodideWasm: Promise<WebAssembly.Module | undefined> = compile();

async function compile(): Promise<WebAssembly.Module | undefined> {
  try {
    const file = path.join(path.dirname(createRequire(import.meta.url).resolve('pyodide')), 'pyodide.asm.wasm');
    // Read at once: an asynchronous read would wait for the main thread, which loads the rest
    // of the process meanwhile, between its chunks (measured: the compile started ~60 ms later).
    return await WebAssembly.compile(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}
