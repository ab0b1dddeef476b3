import type { PyodideAPI } from 'pyodide';
import { boundAllocations } from './allocationBounds.js';
import { refuseHeapViews } from './heapViews.js';
import { removeHostGlobals } from './hostGlobals.js';
import { freezeIntrinsics, hideConstructors } from './intrinsics.js';

// The sandbox's other guards, each a module of its own; the worker and the runtime import them here.
export { meterBufferConversions, type BufferMeter } from './bufferMeter.js';
export { createCallbackGate, type CallbackGate } from './callbackGate.js';
export { freezePyProxyPrototypes } from './intrinsics.js';

/**
 * What Python may reach of the JavaScript realm it runs in. Pyodide in Node is not a sandbox: the
 * `js` module is `globalThis` (process, env, require, fetch), `pyodide_js` can mount host
 * directories, and any JsProxy leads to the Function constructor. The process runs with
 * `--disallow-code-generation-from-strings` and Node's permission model (see launcher.ts); inside
 * each worker this module closes the object paths that remain. README's Security section lists
 * which layer stops which route; test/e2e/sandbox.test.ts tries each of them.
 */

export type NetworkPolicy = {
  /** Hostnames Python may fetch from; empty means any. */
  allowedHosts: readonly string[];
};

export type HardenOptions = {
  network?: NetworkPolicy | undefined;
  /** The real `fetch`, captured before it is removed, for the network opt-in. */
  fetch?: typeof fetch | undefined;
};

/**
 * Close every route from Python to the host that does not need code generation: the `js` and
 * `pyodide_js` modules, Emscripten's host file system driver, and the worker's dangerous globals.
 * Call once, after Pyodide has loaded and the optional host mount is in place.
 */
export function hardenRealm(py: PyodideAPI, options: HardenOptions = {}): void {
  for (const name of ['js', 'pyodide_js']) {
    try {
      py.unregisterJsModule(name);
    } catch {
      /* not registered */
    }
  }
  // unregisterJsModule leaves already-imported modules (and submodules such as pyodide_js._api).
  py.runPython(
    "import sys\nfor _k in [k for k in sys.modules if k.split('.')[0] in ('js', 'pyodide_js')]:\n    del sys.modules[_k]\ndel _k, sys",
  );
  if (options.network && options.fetch) {
    py.registerJsModule('js', createNetworkModule(options.fetch, options.network));
  }

  const module = (py as unknown as { _module: Record<string, unknown> })._module;
  const FS = py.FS as unknown as { filesystems: Record<string, unknown>; ErrnoError: new (errno: number) => Error };
  delete FS.filesystems.NODEFS;
  delete module.NODEFS;
  // Emscripten's sockets are WebSockets to any host and port (through the `ws` package its module
  // scope holds): socket.create_connection, urllib and http.client would reach the network. No
  // opt-in covers raw sockets, so connecting and listening fail as an unreachable host.
  const sockets = (module.SOCKFS as { websocket_sock_ops?: Record<string, unknown> } | undefined)?.websocket_sock_ops;
  if (sockets) {
    const unreachable = () => {
      throw new FS.ErrnoError(23); // EHOSTUNREACH
    };
    for (const name of ['createPeer', 'connect', 'listen', 'accept']) {
      if (typeof sockets[name] === 'function') sockets[name] = unreachable;
    }
  }
  for (const name of ['mountNodeFS', 'mountNativeFS', 'useNodeSockFS', 'loadPackagesFromImports']) {
    try {
      Object.defineProperty(py, name, { value: undefined, configurable: true });
    } catch {
      /* best effort: Python cannot reach the API object itself once pyodide_js is gone */
    }
  }

  refuseHeapViews(py);
  removeHostGlobals();
  // The order matters: the bounds wrap methods of prototypes that are frozen after them.
  hideConstructors();
  boundAllocations();
  freezeIntrinsics();
}

/** The `js` module Python sees when network access is switched on: fetch and what pyfetch needs. */
function createNetworkModule(realFetch: typeof fetch, policy: NetworkPolicy): Record<string, unknown> {
  // Captured now: hardening removes these globals right after.
  const { Request, Headers, Response } = globalThis;
  const allowed = (url: URL) =>
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    (policy.allowedHosts.length === 0 ||
      policy.allowedHosts.some((h) => h === url.hostname.toLowerCase() || h === url.host.toLowerCase()));
  const guardedFetch = async (input: unknown, init?: RequestInit): Promise<Response> => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    const request = input instanceof Request ? input : undefined;
    for (let hop = 0; hop < 10; hop += 1) {
      if (!allowed(url)) {
        throw new TypeError(`network access to ${url.host} is not allowed (NETWORK_ALLOWED_HOSTS)`);
      }
      // Redirects are followed here, one hop at a time, so that each target is checked too.
      const response = await realFetch(hop === 0 && request ? request : url, { ...init, redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response;
      url = new URL(location, url);
    }
    throw new TypeError('too many redirects');
  };
  return { fetch: guardedFetch, AbortController, AbortSignal, Object, Request, Headers, Response };
}
