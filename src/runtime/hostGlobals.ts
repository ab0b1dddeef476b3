/**
 * Globals removed from a worker after Pyodide has loaded: each is a way to the host (modules,
 * process control, network, other threads). The web-standard rest (streams, Blob, URL, crypto,
 * timers) stays: Node's own fetch reads several of them at call time, and none reaches the host.
 * `process` is replaced by a stub rather than removed, since Emscripten and Piscina read it.
 */
const REMOVED_GLOBALS = [
  'require', 'module', 'exports', '__filename', '__dirname', 'fetch', 'WebSocket', 'WebSocketStream',
  'EventSource', 'XMLHttpRequest', 'BroadcastChannel', 'MessageChannel', 'MessagePort', 'Worker',
  'localStorage', 'sessionStorage', 'Storage', 'importScripts', 'postMessage', 'close',
];

/** Delete the globals that lead to the host and put a stub in place of `process`. */
export function removeHostGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  const realProcess = process;
  for (const name of REMOVED_GLOBALS) {
    try {
      delete g[name];
    } catch {
      /* non-configurable: left as is */
    }
  }
  // Piscina and Emscripten read a few fields of `process`; everything else (env, exit, kill,
  // binding, getBuiltinModule, dlopen) is gone from the global. Our own code keeps the real one.
  // No real streams here: the worker's stdout is piped to the MCP channel.
  const sink = Object.freeze({ write: () => true, writableLength: 0 });
  g.process = {
    env: Object.freeze({}),
    argv: Object.freeze([]),
    platform: realProcess.platform,
    versions: Object.freeze({ ...realProcess.versions }),
    version: realProcess.version,
    stdout: sink,
    stderr: sink,
    nextTick: realProcess.nextTick.bind(realProcess),
    hrtime: realProcess.hrtime,
    cwd: () => '/',
    // Emscripten's getuid syscall asks `process` (os.getuid() threw and cost the worker): an
    // unprivileged user, the same one Python's pwd module describes (compat_system.py).
    getuid: () => 1000,
    umask: () => 0o022,
    exitCode: undefined,
  };
}
