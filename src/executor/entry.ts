/**
 * The executor process's entry. Pyodide's WebAssembly starts compiling (on V8's background
 * threads) before the rest of the process is loaded: Node loads a module's whole import graph
 * before it runs any of it, so started from main.ts the compile would begin only once all of
 * main.ts's imports were read and parsed (~60–80 ms into the process), and the first worker waits for it.
 */
import '../runtime/pyodideWasm.js';

await import('./main.js');
