import { describe, expect, it } from 'vitest';
import { hintFor } from '../../src/runtime/hints.js';

describe('hintFor', () => {
  it('points a missing third-party module to install_packages, by its distribution name', () => {
    expect(hintFor({ type: 'ModuleNotFoundError', message: "No module named 'requests'" })).toContain('install_packages(["requests"])');
    expect(hintFor({ type: 'ModuleNotFoundError', message: "No module named 'yaml'" })).toContain('install_packages(["pyyaml"])');
    expect(hintFor({ type: 'ModuleNotFoundError', message: "No module named 'sklearn.linear_model'" })).toContain('"scikit-learn"');
  });

  it('says when a missing module is a standard-library module WebAssembly lacks', () => {
    expect(hintFor({ type: 'ModuleNotFoundError', message: "No module named 'termios'" })).toMatch(/standard-library module that WebAssembly lacks/);
  });

  it('names what to use instead of threads, processes and signals', () => {
    expect(hintFor({ type: 'RuntimeError', message: "can't start new thread" })).toMatch(/threads are not available.*asyncio/);
    expect(hintFor({ type: 'ModuleNotFoundError', message: "No module named '_multiprocessing'" })).toMatch(/processes are not available/);
    expect(hintFor({ type: 'OSError', message: '[Errno 138] emscripten does not support processes.' })).toMatch(/processes are not available/);
    expect(hintFor({ type: 'AttributeError', message: "module 'signal' has no attribute 'alarm'" })).toMatch(/signals are not available/);
  });

  it('names pyodide.http.pyfetch for a socket refused with the network on, and the setting with it off', () => {
    expect(hintFor({ type: 'PermissionError', message: 'socket.connect is not available in this sandbox (no raw sockets); for HTTP use `await pyodide.http.pyfetch(url)`' })).toMatch(/pyodide\.http\.pyfetch/);
    expect(hintFor({ type: 'PermissionError', message: 'socket.connect is not available in this sandbox (no network connections)' })).toMatch(/ALLOW_NETWORK/);
  });

  it('gives nothing for an error the code itself must fix', () => {
    expect(hintFor({ type: 'ZeroDivisionError', message: 'division by zero' })).toBeUndefined();
    expect(hintFor({ type: 'AttributeError', message: "module 'os' has no attribute 'nope'" })).toBeUndefined();
  });
});
