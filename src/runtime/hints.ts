/**
 * What to do next after a Python exception whose cure is not in the code as written: a module to
 * install, or a feature this sandbox (WebAssembly, one thread, no processes) does not have and
 * what to use instead. Pure: the exception's type, message and traceback in, a hint or nothing out.
 */

/** Standard-library modules the WebAssembly build lacks; installing cannot bring them. */
const WASM_LACKS = new Set([
  '_multiprocessing', 'resource', 'termios', 'tty', 'pty', 'fcntl', 'curses', '_curses', 'readline',
  'tkinter', '_tkinter', 'turtle', 'dbm', 'syslog', 'msvcrt', 'winreg', 'winsound', '_winapi', 'nis', 'spwd',
]);

/** Import names whose distribution has another name (the usual ones). */
const DISTRIBUTIONS: Record<string, string> = {
  yaml: 'pyyaml', sklearn: 'scikit-learn', PIL: 'pillow', cv2: 'opencv-python', bs4: 'beautifulsoup4',
  dateutil: 'python-dateutil', skimage: 'scikit-image', attr: 'attrs', Crypto: 'pycryptodome',
};

const THREADS = 'threads are not available in this sandbox (WebAssembly runs one thread): do the work in sequence, or concurrently with asyncio';
const PROCESSES = 'processes are not available in this sandbox: do the work in this process (a loop, or map())';
const SIGNALS = 'signals are not available in this sandbox: the server stops a run at its time limit (timeoutMs); to bound one step, check time.monotonic() in its loop';

export function hintFor(error: { type: string; message: string; traceback?: string }): string | undefined {
  const { type, message, traceback = '' } = error;
  if (type === 'ModuleNotFoundError') {
    const name = /No module named '([^']+)'/.exec(message)?.[1];
    if (!name) return undefined;
    const top = name.split('.')[0] ?? name;
    if (top === '_multiprocessing' || top === 'multiprocessing') return PROCESSES;
    if (WASM_LACKS.has(top)) return `'${top}' is a standard-library module that WebAssembly lacks: it cannot be installed; write the code without it`;
    if (top === 'js' || top === 'pyodide_js') return undefined;
    return `install it with install_packages(["${DISTRIBUTIONS[top] ?? top}"]), then run the code again`;
  }
  if (type === 'RuntimeError' && /can't start new thread/.test(message)) return THREADS;
  if (type === 'RuntimeError' && /use top-level await/.test(message)) return 'use top-level await: end the code with `await main()` instead of asyncio.run(main())';
  if (type === 'AttributeError' && /module 'signal' has no attribute/.test(message)) return SIGNALS;
  if (type === 'PermissionError' && /not available in this sandbox \(no processes\)/.test(message)) return PROCESSES;
  if (type === 'OSError' && /does not support processes/.test(message)) return PROCESSES;
  if (type === 'PermissionError' && /pyodide\.http\.pyfetch/.test(message)) return 'for HTTP use `await pyodide.http.pyfetch(url)` (raw sockets stay closed)';
  if (type === 'PermissionError' && /no network connections/.test(message)) return 'this server has no network access (ALLOW_NETWORK is off): work with data passed in the code or inputData';
  if (type === 'Error' && /no web browser/.test(message)) return 'there is no browser in this sandbox: print the URL or the content instead';
  if (/multiprocessing/.test(traceback) && /_multiprocessing|SemLock|sem_open/.test(`${message}${traceback}`)) return PROCESSES;
  return undefined;
}
