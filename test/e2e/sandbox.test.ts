import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  allText,
  FIND_API,
  JS_INTRINSICS,
  listing,
  loopbackListener,
  privateCacheDir,
  py,
  SandboxServer,
  secret,
  sleep,
  type Outcome,
} from '../helpers/sandbox.js';
import type { ExecResult } from '../helpers/server.js';

/**
 * Sandbox escape attempts, written as an attacker would write them: Python code sent through the
 * real MCP client to the built server. Each test tries one route to one goal and asserts that the
 * attempt fails AND that the server keeps serving. The goals (from the security issue):
 *
 *   1. no server environment variables, no host files (read, write, create, delete), no cache poisoning;
 *   2. no processes, no native addons, no network connection of any kind;
 *   3. no ending, crashing or freezing the server or its pool, no forged pool messages;
 *   4. no unbounded memory outside WebAssembly;
 *   5. no seeing or changing another execution's code, input, output or namespace.
 *
 * The routes: the `js` module, pyodide.code.run_js, pyodide_js, the Pyodide FFI (to_js,
 * create_proxy, JsProxy attribute walks), the Function constructor, Emscripten's file systems,
 * ctypes, _pyodide_core, pyodide.webloop, pyodide._package_loader, sockets, gc walks, sys.modules
 * and meta_path tricks, and the interpreter-wide hooks a run can leave behind.
 */

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED_CACHE = inject('cacheDir');
const CANARY_ENV = secret('canary-env');

const alive = (r: Outcome): r is ExecResult => !('failed' in r);
const text = (r: Outcome) => allText(r);

// ---------------------------------------------------------------------------------------------
// what Python needs keeps working
// ---------------------------------------------------------------------------------------------

const general = new SandboxServer({ MAX_CONCURRENT_EXECUTIONS: '1', EXECUTION_TIMEOUT_MS: '4000', CANARY_SECRET: CANARY_ENV });

describe('what Python needs keeps working', () => {
  beforeAll(async () => {
    if (!general.pid) await general.start();
  });

  it('runs the standard library: json, datetime, decimal, collections, hashlib, random, time', async () => {
    const r = await general.run(py`
      import json, datetime, decimal, collections, hashlib, random, time, statistics, re
      t0 = time.time(); time.sleep(0.01)
      print(json.dumps({'a': [1, 2]}), datetime.date(2024, 2, 29).isoformat(), decimal.Decimal('0.1') * 3)
      print(collections.Counter('abca').most_common(1), hashlib.sha256(b'abc').hexdigest()[:16])
      print(0 <= random.random() < 1, time.time() - t0 >= 0.01, statistics.mean([1, 2, 3]), re.findall('[0-9]+', 'a1b22'))
    `);
    expect(text(r)).not.toContain('Error');
    if (alive(r)) {
      expect(r.status).toBe('success');
      expect(r.stdout).toBe(
        '{"a": [1, 2]} 2024-02-29 0.3\n' + "[('a', 2)] ba7816bf8f01cfea\n" + "True True 2 ['1', '22']\n",
      );
    }
  });

  it('feeds input() and prints, and keeps in-memory files in the working directory and /tmp', async () => {
    const r = await general.run(
      py`
        name = input('name? ')
        with open('notes.txt', 'w') as f:
            f.write(name * 3)
        with open('/tmp/t.bin', 'wb') as f:
            f.write(bytes(range(10)))
        import os
        print(open('notes.txt').read(), os.path.getsize('/tmp/t.bin'), os.getcwd())
      `,
      { inputData: ['ab'] },
    );
    expect(alive(r) && r.stdout).toBe('name? ababab 10 /home/pyodide/work\n');
  });

  it('runs asyncio: gather, sleep, tasks, top-level await', async () => {
    const r = await general.run(py`
      import asyncio
      async def double(x):
          await asyncio.sleep(0.01)
          return 2 * x
      task = asyncio.create_task(double(5))
      print(await asyncio.gather(double(1), double(2)), await task)
    `);
    expect(alive(r) && r.stdout).toBe('[2, 4] 10\n');
  });
});

// ---------------------------------------------------------------------------------------------
// goal 1 and 2: the host (environment, files, cache, processes, addons, network)
// ---------------------------------------------------------------------------------------------

describe('the host is out of reach', () => {
  let host: SandboxServer;
  let canaryDir: string;
  let canaryFile: string;
  let cacheDir: string;
  const CANARY_FILE = secret('canary-file');

  beforeAll(async () => {
    canaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-sandbox-canary-'));
    canaryFile = path.join(canaryDir, 'secret.txt');
    fs.writeFileSync(canaryFile, CANARY_FILE);
    fs.writeFileSync(path.join(canaryDir, 'addon.node'), Buffer.from('\0asm\x01\0\0\0'));
    // Its own cache directory, so an attack on the cache cannot touch the other tests' cache.
    cacheDir = privateCacheDir(SHARED_CACHE);
    host = new SandboxServer({
      MAX_CONCURRENT_EXECUTIONS: '1',
      EXECUTION_TIMEOUT_MS: '10000',
      CANARY_SECRET: CANARY_ENV,
      PACKAGE_CACHE_DIR: cacheDir,
    });
    await host.start();
  });
  afterEach(async () => {
    await host.ensureHealthy();
  });
  afterAll(async () => {
    await host?.close();
    fs.rmSync(canaryDir, { recursive: true, force: true });
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  const expectServing = async () => {
    expect(host.processAlive()).toBe(true);
    expect(await host.answers()).toBe(true);
  };

  describe('environment variables and files (goal 1)', () => {
    it('cannot import js or pyodide_js, or run JavaScript with pyodide.code.run_js', async () => {
      const r = await host.run(py`
        import sys, importlib
        for name in ('js', 'pyodide_js', 'pyodide_js._api', 'js.process'):
            try:
                m = importlib.import_module(name)
                print('IMPORTED', name, [k for k in ('process', 'require', 'fetch') if hasattr(m, k)])
            except ImportError:
                print('refused', name)
        try:
            from pyodide.code import run_js
            print('RAN', run_js('typeof process'))
        except Exception as e:
            print('run_js refused:', type(e).__name__)
        import _pyodide._importhook as hook
        print('registered js modules:', sorted(hook.jsfinder.jsproxies))
      `);
      expect(text(r)).not.toContain('IMPORTED');
      expect(text(r)).not.toContain('RAN');
      expect(text(r)).toContain('registered js modules: []');
      expect(text(r)).not.toContain(CANARY_ENV);
      await expectServing();
    });

    it('sys.modules and meta_path tricks do not bring js or pyodide_js back', async () => {
      const r = await host.run(py`
        import sys, importlib, importlib.abc, importlib.util
        import _pyodide._importhook as hook
        # re-run the finder that served js, after clearing every cache the import system has
        sys.modules.pop('js', None)
        importlib.invalidate_caches()
        sys.meta_path.insert(0, hook.jsfinder)
        for name in ('js', 'pyodide_js'):
            try:
                print('IMPORTED', name, dir(importlib.import_module(name))[:5])
            except ImportError:
                print('refused', name)
        # any module object left in sys.modules that is a JavaScript object?
        from pyodide.ffi import JsProxy
        print('JsProxy modules:', [k for k, v in list(sys.modules.items()) if isinstance(v, JsProxy)])
      `);
      expect(text(r)).not.toContain('IMPORTED');
      expect(text(r)).toContain('JsProxy modules: []');
      await expectServing();
    });

    it('the Function constructor, reached from any JavaScript object, compiles nothing', async () => {
      const r = await host.run(py`
        ${JS_INTRINSICS}
        from pyodide.webloop import scheduleCallback
        routes = {
            'array.constructor.constructor': lambda: to_js([1]).constructor.constructor,
            'map.__proto__.constructor.constructor': lambda: to_js({'a': 1}).__proto__.constructor.constructor,
            'uint8array.constructor.constructor': lambda: to_js(b'x').constructor.constructor,
            'webloop.scheduleCallback.constructor': lambda: scheduleCallback.constructor,
            'Object.constructor': lambda: Obj.constructor,
            'Function.prototype.constructor': lambda: Fn.prototype.constructor,
        }
        for label, get in routes.items():
            F = get()
            for how in ('call', 'new', 'bind'):
                try:
                    if how == 'call':
                        f = F('return typeof process === "object" ? JSON.stringify(process.env) : "none"')
                    elif how == 'new':
                        f = F.new('return 1')
                    else:
                        f = F.bind(None, 'return 1')()
                    print('COMPILED', label, how, f() if callable(f) else f)
                except Exception as e:
                    print('refused', label, how, type(e).__name__)
      `);
      expect(text(r)).not.toContain('COMPILED');
      expect(text(r)).not.toContain(CANARY_ENV);
      await expectServing();
    });

    it('ctypes cannot run JavaScript through emscripten_run_script', async () => {
      const marker = path.join(canaryDir, 'marker-run-script');
      const js = `require('fs').writeFileSync(${JSON.stringify(marker)}, JSON.stringify(process.env))`;
      for (const fn of ['emscripten_run_script', 'emscripten_run_script_int', 'emscripten_run_script_string']) {
        const r = await host.run(py`
          import ctypes
          lib = ctypes.CDLL(None)
          f = getattr(lib, '${fn}')
          f.restype = ctypes.c_char_p if '${fn}'.endswith('string') else ctypes.c_int
          print('RAN', f(${JSON.stringify(js)}.encode()))
        `);
        expect(text(r)).not.toContain(CANARY_ENV);
        expect(fs.existsSync(marker)).toBe(false);
        await expectServing();
      }
    });

    it('cannot read the server environment variables by any route', async () => {
      const r = await host.run(py`
        import os, ctypes
        print(dict(os.environ))
        try:
            print(open('/proc/self/environ').read())
        except OSError as e:
            print('no /proc/self/environ:', e.errno)
        getenv = ctypes.CDLL(None).getenv
        getenv.restype = ctypes.c_char_p
        print('getenv:', getenv(b'CANARY_SECRET'))
        ${FIND_API}
        if api is not None:
            import json
            for label, get in [
                ('config.env', lambda: api._api.config.env),
                ('Module.ENV', lambda: api._module.ENV),
                ('config.args', lambda: api._api.config.args),
                ('runtimeEnv', lambda: api._api.runtimeEnv),
            ]:
                try:
                    v = get()
                    print(label, json.dumps(v.to_py() if hasattr(v, 'to_py') else v, default=str))
                except Exception as e:
                    print(label, 'refused', type(e).__name__)
      `);
      expect(text(r)).not.toContain(CANARY_ENV);
      await expectServing();
    });

    it('cannot read host files outside the package (a canary file, /etc/hostname), by open() or by the Pyodide API left in the heap', async () => {
      const hostname = fs.existsSync('/etc/hostname') ? fs.readFileSync('/etc/hostname', 'utf8').trim() : '';
      const r = await host.run(py`
        import os
        paths = [${JSON.stringify(canaryFile)}, '/etc/hostname', '/etc/passwd']
        for p in paths:
            try:
                print('READ', p, open(p).read())
            except OSError as e:
                print('open refused', p, e.errno)
        try:
            print('LISTED', os.listdir(${JSON.stringify(canaryDir)}))
        except OSError as e:
            print('listdir refused', e.errno)
        ${FIND_API}
        if api is not None:
            for p in paths + ['file://' + paths[0]]:
                try:
                    data = await api._api.loadBinaryFile(p)
                    print('READ', p, bytes(data.to_py()).decode(errors='replace'))
                except Exception as e:
                    print('loadBinaryFile refused', p, str(e)[:80])
      `);
      expect(text(r)).not.toContain(CANARY_FILE);
      expect(text(r)).not.toContain('READ');
      if (hostname) expect(text(r)).not.toContain(`READ /etc/hostname ${hostname}`);
      await expectServing();
    });

    it("cannot read the package's own files or the package cache (the start-up snapshot)", async () => {
      const snapshot = listing(cacheDir).find((f) => f.startsWith('snapshots/'))?.split(' ')[0] ?? 'snapshots/none.bin';
      const targets = [
        path.join(PACKAGE_ROOT, 'package.json'),
        path.join(PACKAGE_ROOT, 'build', 'index.js'),
        path.join(PACKAGE_ROOT, 'node_modules', 'pyodide', 'package.json'),
        path.join(cacheDir, snapshot),
      ];
      const r = await host.run(py`
        targets = ${JSON.stringify(targets)}
        for p in targets:
            try:
                print('READ by open()', p, len(open(p, 'rb').read()))
            except OSError as e:
                print('open refused', p, e.errno)
        ${FIND_API}
        if api is not None:
            for p in targets:
                try:
                    data = bytes((await api._api.loadBinaryFile(p)).to_py())
                    print('READ by loadBinaryFile', p, len(data), data[:40])
                except Exception as e:
                    print('loadBinaryFile refused', p, str(e)[:80])
      `);
      expect(text(r)).not.toContain('READ');
      expect(text(r)).not.toContain('mcp-python-executor"');
      await expectServing();
    });

    it('cannot write, create or delete host files, nor poison PACKAGE_CACHE_DIR', async () => {
      const cacheBefore = listing(cacheDir);
      const r = await host.run(py`
        import os
        canary = ${JSON.stringify(canaryFile)}
        attempts = {
            'overwrite canary': lambda: open(canary, 'w').write('pwned'),
            'create beside canary': lambda: open(os.path.join(os.path.dirname(canary), 'created.txt'), 'w').write('x'),
            'delete canary': lambda: os.remove(canary),
            'mkdir + create in the cache dir': lambda: (os.makedirs(${JSON.stringify(cacheDir)}, exist_ok=True), open(${JSON.stringify(path.join(cacheDir, 'created.txt'))}, 'w').write('x')),
        }
        for label, f in attempts.items():
            try:
                f()
                print('in-memory only?', label)
            except OSError as e:
                print('refused', label, e.errno)
        ${FIND_API}
        if api is not None:
            # The package manager copies a "missing" wheel from its CDN URL into the cache with
            # node:fs; the CDN URL and the lock file are plain, writable JavaScript objects.
            ${JS_INTRINSICS}
            pm = api._api.packageManager
            pm.cdnURL = ${JSON.stringify(`${PACKAGE_ROOT}/`)}
            setattr(api._api.lockfile_packages, 'sandbox-poison', to_js({'file_name': 'package.json', 'sha256': 'abcd'}, dict_converter=Obj.fromEntries))
            entry = to_js({'channel': pm.defaultChannel, 'normalizedName': 'sandbox-poison', 'name': 'sandbox-poison'}, dict_converter=Obj.fromEntries)
            try:
                data = await pm.downloadPackage(entry, False)
                print('WROTE a copy into the cache:', len(data.to_py()), 'bytes')
            except Exception as e:
                print('package manager refused', str(e)[:100])
      `);
      expect(fs.readFileSync(canaryFile, 'utf8')).toBe(CANARY_FILE);
      expect(fs.readdirSync(canaryDir).sort()).toEqual(['addon.node', 'secret.txt']);
      expect(listing(cacheDir), text(r)).toEqual(cacheBefore);
      await expectServing();
    });

    it("cannot mount host directories through Emscripten's file systems", async () => {
      const r = await host.run(py`
        import os
        print('root:', sorted(os.listdir('/')))
        ${FIND_API}
        if api is not None:
            FS = api._module.FS
            print('mountNodeFS:', api.mountNodeFS, 'NODEFS in FS.filesystems:', 'NODEFS' in list(FS.filesystems.object_keys()), 'Module.NODEFS:', getattr(api._module, 'NODEFS', None))
            ${JS_INTRINSICS}
            for label, fsys in [('FS.filesystems.NODEFS', lambda: FS.filesystems.NODEFS), ('Module.NODEFS', lambda: api._module.NODEFS)]:
                try:
                    t = fsys()
                    if t is None:
                        print('absent', label); continue
                    os.makedirs('/tmp/m', exist_ok=True)
                    FS.mount(t, to_js({'root': ${JSON.stringify(canaryDir)}}, dict_converter=Obj.fromEntries), '/tmp/m')
                    print('MOUNTED', label, os.listdir('/tmp/m'), open('/tmp/m/secret.txt').read())
                except Exception as e:
                    print('refused', label, str(e)[:80])
      `);
      expect(text(r)).not.toContain('MOUNTED');
      expect(text(r)).not.toContain(CANARY_FILE);
      await expectServing();
    });
  });

  describe('processes, native addons and the network (goal 2)', () => {
    it('cannot start a process: os.system, os.popen, subprocess, os.posix_spawn, ctypes system()', async () => {
      const marker = path.join(canaryDir, 'marker-process');
      const cmd = `touch ${marker}`;
      const attempts = [
        `import os\nos.system(${JSON.stringify(cmd)})`,
        `import os\nos.popen(${JSON.stringify(cmd)}).read()`,
        `import subprocess\nsubprocess.run(${JSON.stringify(cmd)}, shell=True)`,
        `import os\nos.posix_spawn('/bin/sh', ['sh', '-c', ${JSON.stringify(cmd)}], {})`,
        `import os\nos.execv('/bin/sh', ['sh', '-c', ${JSON.stringify(cmd)}])`,
        `import ctypes\nctypes.CDLL(None).system(${JSON.stringify(cmd)}.encode())`,
      ];
      for (const code of attempts) {
        await host.run(code);
        expect(fs.existsSync(marker), code).toBe(false);
        await expectServing();
      }
    });

    it('process and socket calls are refused inside the interpreter too, not only by Node (Emscripten system() holds its own require)', async () => {
      const refused = await host.run(py`
        import os, socket
        out = []
        for attempt in (lambda: os.system('true'), lambda: os.execv('/bin/true', ['true']), lambda: socket.create_connection(('127.0.0.1', 9), timeout=1)):
            try:
                attempt()
                out.append('ran')
            except PermissionError as e:
                out.append(str(e))
        out
      `);
      expect(alive(refused) && refused.result).toBe(
        "['os.system is not available in this sandbox (no processes)', 'os.exec is not available in this sandbox (no processes)', 'socket.connect is not available in this sandbox (no network connections)']",
      );
    });

    it('cannot load a native addon', async () => {
      const addon = path.join(canaryDir, 'addon.node');
      // Two copies: Emscripten remembers a failed dlopen, so each route gets its own first try.
      const other = path.join(canaryDir, 'addon2.node');
      fs.copyFileSync(addon, other);
      const r = await host.run(py`
        import ctypes
        try:
            ctypes.CDLL(${JSON.stringify(addon)})
            print('LOADED by ctypes')
        except OSError as e:
            print('ctypes refused', str(e)[:80])
        ${FIND_API}
        if api is not None:
            try:
                await api._api.loadDynlib(${JSON.stringify(other)}, True)
                print('LOADED by loadDynlib')
            except Exception as e:
                print('loadDynlib refused', str(e)[:80])
      `);
      fs.rmSync(other);
      expect(text(r)).not.toContain('LOADED');
      await expectServing();
    });

    it('socket.create_connection, urllib, http.client and asyncio streams open no connection', async () => {
      const listener = await loopbackListener();
      try {
        const r = await host.run(py`
          import socket, urllib.request, http.client, asyncio
          port = ${listener.port}
          def attempt(label, f):
              try:
                  print('CONNECTED', label, f())
              except Exception as e:
                  print('refused', label, type(e).__name__)
          attempt('socket', lambda: socket.create_connection(('127.0.0.1', port), timeout=2).recv(100))
          attempt('urllib', lambda: urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=2).read())
          attempt('http.client', lambda: http.client.HTTPConnection('127.0.0.1', port, timeout=2).request('GET', '/'))
          try:
              r, w = await asyncio.open_connection('127.0.0.1', port)
              print('CONNECTED asyncio', await r.readline())
          except Exception as e:
              print('refused asyncio', type(e).__name__)
        `);
        await sleep(200);
        expect(text(r)).not.toContain('CONNECTED');
        expect(listener.connections()).toBe(0);
      } finally {
        await listener.close();
      }
      await expectServing();
    });

    it('fetch, pyfetch and WebSocket are not available and open no connection', async () => {
      const listener = await loopbackListener();
      try {
        const r = await host.run(py`
          url = 'http://127.0.0.1:${listener.port}/'
          try:
              from pyodide.http import pyfetch
              resp = await pyfetch(url)
              print('FETCHED', await resp.string())
          except Exception as e:
              print('pyfetch refused', type(e).__name__)
          for name in ('fetch', 'WebSocket', 'XMLHttpRequest'):
              try:
                  exec(f'from js import {name}')
                  print('IMPORTED', name)
              except ImportError:
                  print('refused', name)
          ${FIND_API}
          if api is not None:
              try:
                  data = await api._api.loadBinaryFile(url)
                  print('FETCHED by loadBinaryFile', bytes(data.to_py()))
              except Exception as e:
                  print('loadBinaryFile refused', str(e)[:80])
        `);
        await sleep(200);
        expect(text(r)).not.toContain('FETCHED');
        expect(text(r)).not.toContain('IMPORTED');
        expect(listener.connections()).toBe(0);
      } finally {
        await listener.close();
      }
      await expectServing();
    });

    it('the Pyodide API left in the heap (gc.get_objects) cannot switch on Node sockets', async () => {
      const listener = await loopbackListener();
      try {
        const r = await host.run(py`
          import sys, asyncio, socket
          ${FIND_API}
          if api is not None:
              try:
                  await api._api.initializeNodeSockFS()
                  sys.modules['pyodide_js'] = api          # what webloop's sock_connect imports
                  sys.modules['pyodide_js._api'] = api._api
                  r, w = await asyncio.open_connection('127.0.0.1', ${listener.port})
                  print('CONNECTED', await r.readline())
              except Exception as e:
                  print('refused', type(e).__name__, str(e)[:80])
        `);
        await sleep(200);
        expect(text(r)).not.toContain('CONNECTED');
        expect(listener.connections()).toBe(0);
      } finally {
        await listener.close();
      }
      await expectServing();
    });
  });
});

// ---------------------------------------------------------------------------------------------
// goal 3: the server and its pool keep running
// ---------------------------------------------------------------------------------------------

describe('the server and its pool survive (goal 3)', () => {
  beforeAll(async () => {
    if (!general.pid) await general.start();
  });
  afterEach(async () => {
    await general.ensureHealthy();
  });

  const expectServing = async () => {
    expect(general.processAlive()).toBe(true);
    expect(await general.answers()).toBe(true);
  };

  it('cannot end the server: os._exit, SIGKILL to itself, fatal errors, Emscripten exit and abort', async () => {
    const attempts = [
      'import os\nos._exit(3)',
      'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)',
      'import signal\nsignal.raise_signal(signal.SIGABRT)',
      'import _pyodide_core\n_pyodide_core.trigger_fatal_error()',
      `${FIND_API}\napi._module._exit(1)`,
      `${FIND_API}\napi._module._abort()`,
      `${FIND_API}\napi._module._emscripten_force_exit(2)`,
      `${FIND_API}\napi._api.fatal_error('boom')`,
    ];
    for (const code of attempts) {
      await general.run(code);
      expect(general.processAlive(), code).toBe(true);
      expect(await general.answers(), code).toBe(true);
    }
  });

  it('a run that loops forever, swallows KeyboardInterrupt or switches interrupts off is stopped', async () => {
    const attempts = [
      'while True:\n    pass',
      'while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass',
      `${FIND_API}\napi.setInterruptBuffer(None)\nwhile True:\n    pass`,
    ];
    for (const code of attempts) {
      const r = await general.run(code, { timeoutMs: 1000, clientTimeoutMs: 15_000 });
      if (code.includes('setInterruptBuffer') && alive(r) && r.error?.code === 'PYTHON_ERROR') {
        // Refused before it could loop: the Pyodide API cannot be found to switch interrupts off.
        expect(r.stdout).toContain('API unreachable');
      } else {
        expect(alive(r) && r.error?.code, code).toBe('EXECUTION_TIMEOUT');
      }
      await expectServing();
    }
  });

  it('a callback the run leaves scheduled (pyodide.webloop.scheduleCallback) cannot freeze the worker', async () => {
    const r = await general.run(py`
      from pyodide.webloop import scheduleCallback
      from pyodide.ffi import create_proxy
      def spin():
          while True:
              pass
      scheduleCallback(create_proxy(spin), 0)   # runs right after this execution, with no time limit
      'scheduled'
    `);
    expect(alive(r) && r.result).toBe("'scheduled'");
    // The execution time limit is 4 s: a healthy server answers well within 10 s.
    const next = await general.run('print(6 * 7)', { clientTimeoutMs: 10_000 });
    expect(text(next)).toContain('42');
  });

  it('cannot reach a postMessage to forge pool messages, and the next call gets its own result', async () => {
    const r = await general.run(py`
      ${JS_INTRINSICS}
      from pyodide.webloop import scheduleCallback
      from pyodide.ffi import JsProxy
      ${FIND_API}
      roots = {'array': to_js([1]), 'map': to_js({'a': 1}), 'bytes': to_js(b'x'), 'scheduleCallback': scheduleCallback}
      if api is not None:
          roots['api'] = api
      is_pyproxy = api._api.isPyProxy if api is not None else (lambda v: False)
      seen, found, queue = set(), [], [(v, k, 0) for k, v in roots.items()]
      while queue and len(seen) < 4000:
          o, where, depth = queue.pop(0)
          try:
              names = list(Obj.getOwnPropertyNames(o))
          except Exception:
              continue
          for n in names:
              if n in ('postMessage', 'parentPort', 'port', 'workerData'):
                  found.append(where + '.' + n)
              if depth >= 3 or n.startswith('HEAP') or n in ('caller', 'arguments'):
                  continue
              try:
                  d = Obj.getOwnPropertyDescriptor(o, n)
                  v = d.value if 'value' in Obj.keys(d) else None
              except Exception:
                  continue
              if isinstance(v, JsProxy) and not is_pyproxy(v) and v.js_id not in seen:
                  seen.add(v.js_id)
                  queue.append((v, where + '.' + n, depth + 1))
      print('FOUND' if found else 'nothing found', found[:5])
    `);
    expect(text(r)).not.toContain('FOUND');
    const victim = await general.run('print(sum(range(10)))');
    expect(alive(victim) && victim.stdout).toBe('45\n');
  });

  it("a huge last-expression value is capped like printed output and does not break the client's connection", async () => {
    // 230 MiB of repr() fits in MAX_MEMORY_MB, but the answer (result + text, ~460 MiB of JSON on
    // one line) is more than the MCP client can read: the stdio connection is lost, and with it
    // every later call. A little more (300 MiB) and the server cannot serialize the answer at all.
    const big = new SandboxServer({ MAX_CONCURRENT_EXECUTIONS: '1', EXECUTION_TIMEOUT_MS: '30000', MAX_MEMORY_MB: '512' });
    await big.start();
    try {
      const r = await big.run("'x' * (230 * 1024 * 1024)", { clientTimeoutMs: 90_000 });
      expect(alive(r), text(r).slice(0, 300)).toBe(true);
      expect(alive(r) && (r.result ?? '').length).toBeLessThanOrEqual(1024 * 1024 + 1024);
      expect(await big.answers(), 'the connection still serves calls').toBe(true);
    } finally {
      await big.close();
    }
  }, 180_000);

  it("nothing in the runner's frame leads to the harness's globals (its guard flags)", async () => {
    const r = await general.run(py`
      import sys
      f = sys._getframe(0).f_back                   # the runner's frame: its locals are readable
      def reach(v):
          return '_active' in getattr(getattr(type(v), '__init__', None), '__globals__', {}) or '_active' in getattr(v, '__globals__', {})
      [k for k, v in f.f_locals.items() if reach(v)]
    `);
    expect(alive(r), text(r).slice(0, 300)).toBe(true);
    expect(alive(r) && r.result).toBe('[]');
  });

  it("the result cap holds when the code raises the runner's limit (a local of its frame)", async () => {
    const r = await general.run(py`
      import sys
      # evaluated in the runner's frame: f_back is it, and its locals are writable (PEP 667)
      (sys._getframe(0).f_back.f_locals.__setitem__('limit', 2**31), 'y' * (3 * 1024 * 1024))[1]
    `, { fullOutput: true });
    expect(alive(r), text(r).slice(0, 300)).toBe(true);
    // The answer shows head and tail within the output budget; all that was kept comes with fullOutput.
    const kept = alive(r) ? (r.resources ?? []).find((x) => x.uri.endsWith('/result.txt'))?.text ?? '' : '';
    expect(kept.length).toBeGreaterThan(1024 * 1024);
    expect(kept.length).toBeLessThanOrEqual(1024 * 1024 + 64);
    expect(kept.endsWith('more characters cut]')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// goal 4: memory outside WebAssembly
// ---------------------------------------------------------------------------------------------

describe('memory outside WebAssembly stays bounded (goal 4)', () => {
  /** Python: `e` is a JavaScript error whose toString() hands back its 16 MiB message uncopied. */
  const LONG_MESSAGE_ERROR = py`
    from pyodide.ffi import to_js, JsException
    try:
        to_js([]).at.call(None)                # a TypeError thrown by JavaScript
    except JsException as ex:
        e = ex.js_error
    e.name = ''                              # Error.prototype.toString then returns the message itself
    e.message = 'x' * (1 << 24)              # 16 MiB, within the bound (and the conversion budget)
  `;
  const LIMIT_MB = 64;
  // Peak RSS growth allowed for one execution: the limit, plus the worker's JavaScript heap
  // (256 MiB old generation), plus room for a replacement worker. Each attack below tries ~1 GiB.
  const MAX_GROWTH_MB = LIMIT_MB + 320;
  const mem = new SandboxServer({
    MAX_MEMORY_MB: String(LIMIT_MB),
    MAX_CONCURRENT_EXECUTIONS: '1',
    EXECUTION_TIMEOUT_MS: '20000',
  });
  let baseline = 0;

  beforeAll(async () => {
    await mem.start();
    baseline = mem.rssMb();
  });
  afterEach(async () => {
    // A server left bloated or dead by an attack is replaced, so each test measures only itself.
    await mem.ensureHealthy(baseline + 200);
    if (mem.starts > 1) baseline = Math.min(baseline, mem.rssMb());
  });
  afterAll(() => mem.close());

  /** Run the attack, then a normal call (so work the attack left behind has run), and measure. */
  async function attack(code: string, settleMs = 0): Promise<{ r: Outcome; growthMb: number; serving: boolean }> {
    const before = mem.rssMb();
    const peakBefore = mem.status('VmHWM');
    const reset = mem.resetPeak();
    const r = await mem.run(code, { clientTimeoutMs: 60_000 });
    await sleep(settleMs); // an idle worker: a timer the attack left behind fires now
    const serving = mem.processAlive() && (await mem.answers(30_000));
    const peak = mem.status('VmHWM');
    const growthMb = Number.isNaN(peak) ? Infinity : peak - (reset ? before : Math.max(before, peakBefore));
    return { r, growthMb, serving };
  }

  it('the WebAssembly heap stops at MAX_MEMORY_MB (control)', async () => {
    const { r, growthMb, serving } = await attack('b = bytearray(1024 * 1024 * 1024)');
    expect(alive(r) && r.error?.code).toBe('MEMORY_LIMIT_EXCEEDED');
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('JavaScript ArrayBuffers made through a JsProxy constructor (Uint8Array.new) are bounded', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      Uint8Array = to_js(b'x').constructor
      keep = []
      for i in range(16):
          a = Uint8Array.new(64 * 1024 * 1024)
          a.fill(1)
          keep.append(a)
      print(len(keep) * 64, 'MiB held outside WebAssembly')
    `);
    expect(growthMb, text(r)).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('ArrayBuffers made by to_js(bytes) are bounded', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      b = bytes(range(256)) * (128 * 1024)      # 32 MiB inside the limit
      keep = [to_js(b) for _ in range(32)]     # 32 copies outside it
      print(len(keep) * 32, 'MiB of copies')
    `);
    expect(growthMb, text(r)).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('JavaScript strings are bounded', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      keep = to_js([])
      for i in range(128):
          keep.push(str(i) + 'x' * (8 * 1024 * 1024))
      print(keep.length)
    `);
    expect(growthMb, text(r)).toBeLessThan(MAX_GROWTH_MB);
    // Node 24 keeps these strings outside the JavaScript heap: the conversion meter stops them,
    // and the traceback shows no JavaScript frames (host paths).
    expect(alive(r) && r.error?.code).toBe('MEMORY_LIMIT_EXCEEDED');
    expect(text(r)).not.toMatch(/file:\/\/|node:internal/);
    expect(serving).toBe(true);
  });

  it('copies of a JavaScript buffer Python holds (Uint8Array.prototype.slice, ArrayBuffer.prototype.slice) are bounded', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      src = to_js(b'x' * (16 * 1024 * 1024))   # 16 MiB, counted once by the conversion meter
      keep = []
      for i in range(64):
          keep.append(src.slice() if i % 2 else src.buffer.slice(0))   # each copy is new, uncounted
      print(len(keep) * 16, 'MiB of copies outside WebAssembly')
    `);
    expect(growthMb, text(r)).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('copying TypedArray methods (toReversed, with; toSorted, map and filter alike) on a buffer Python holds are bounded', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      src = to_js(b'x' * (16 * 1024 * 1024))
      keep = []
      for i in range(64):
          keep.append(src.toReversed() if i % 2 else getattr(src, 'with')(0, 1))   # each a new 16 MiB buffer
      print(len(keep) * 16, 'MiB of copies outside WebAssembly')
    `);
    expect(growthMb, text(r)).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('JavaScript strings made in JavaScript from a short string (repeat, then toUpperCase, through Array.prototype.map) are bounded', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      Obj = to_js([1]).__proto__.__proto__.constructor
      S = Obj('x')                                 # a String object: its methods stay JavaScript
      call = Obj.constructor.prototype.call
      # No string crosses the FFI: map calls 'x'.repeat(8 MiB), then toUpperCase flattens each one.
      ropes = to_js([0] * 64).map(call.bind(S.repeat, 'x', 8 * 1024 * 1024))
      flat = ropes.map(call.bind(S.toUpperCase))
      print(flat.length, 'strings of 8 MiB')
    `);
    expect(growthMb, text(r)).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('one huge JavaScript string (String.prototype.repeat, flattened for Python) does not crash the server', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).__proto__.__proto__.constructor('x')   # Object('x'): a String object
      s = S.repeat(2**29 - 24)   # a rope; turning it into a Python str flattens it in one allocation
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('a String object made by Object.prototype.valueOf.call(str) (ToObject) cannot build one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).valueOf.call('x')   # Object.prototype.valueOf: ToObject('x') is a String object
      s = S.repeat(2**29 - 24)           # a rope; turning it into a Python str flattens it in one allocation
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('Function.prototype.apply with a huge sparse array as its arguments does not make one huge list', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      args = to_js([])
      args.length = 130_000_000                # sparse: nothing allocated yet
      push = to_js([1]).push
      push.apply(to_js([]), args)              # CreateListFromArrayLike: one list of 130 million values first
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('Array.prototype.concat on a short array with many arrays at the bound as arguments does not make one huge array', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      big = to_js([0.5] * 2**20)     # a dense array at the bound: 8 MiB
      one = to_js([0])
      r = one.concat(*[big] * 120)   # this.length is 1; the result is 126 million elements in one step
      print(r.length)
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('Array.prototype.join of a short array of long strings does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      one = to_js(['x' * 65000])          # one JavaScript string, just under the metered size
      parts = one.concat(*[one] * 8249)    # 8250 references to it: far under the length bound
      s = parts.join('')                   # one flat string of 536 million characters
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('String.prototype.concat with many references to a long string as arguments does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).valueOf.call('x')     # a String object: String.prototype's methods
      one = to_js(['x' * 65000])           # one JavaScript string, just under the metered size
      parts = one.concat(*[one] * 8249)    # 8250 references to it
      s = S.concat.apply(S, parts)         # 'x' + 536 million characters, flattened for Python
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(text(r)).toMatch(/RangeError|not available|MEMORY_LIMIT/);
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it("String.prototype.split('') of a long string does not make one huge array", async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).valueOf.call('x')          # a String object: String.prototype's methods
      parts = S.split.call('a' * 2**23, '')     # 8 MiB of text; one array of 8.4 million strings (64 MiB) at once
      print(parts.length)
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it("String.prototype.replaceAll with a '$`' replacement (the text before each match) does not make one huge string", async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).valueOf.call('x')
      before = '$' + chr(96)                   # the pattern $\u0060: the text before the match
      # The guard counts 3 characters per match; each match inserts the whole prefix instead:
      # 32000**2 / 2 = 512 million characters, one flat string
      s = S.replaceAll.call('a' * 32000, 'a', before)
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('String.prototype.anchor (an HTML method: each " of the attribute becomes &quot;) does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).valueOf.call('x')
      s = S.anchor.call('x', '"' * 2**24)   # 16 MiB in; one flat string of 100 million characters out
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('the keys of a long String object (object_keys, object_entries: one key per character) do not crash the server', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).valueOf.call('a' * 2**23)   # ToObject: a String object, neither an array nor a view
      keys = S.object_keys()                      # Object.keys: one array of 8.4 million index strings
      print(keys.length)
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('Array.prototype.join of String objects (each counted as 24 characters) does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      box = to_js([1]).valueOf                # Object.prototype.valueOf: ToObject boxes a string
      one = to_js([box.call('x' * 65000)])     # an object: the join guard counts it as 24 characters
      parts = one.concat(*[one] * 8249)        # 8250 references to it
      s = parts.join('')                       # one flat string of 536 million characters
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it("Array.prototype.join of error objects (each counted as 24 characters; Error.prototype.toString gives back a long message uncopied) does not make one huge string", async () => {
    const { r, growthMb, serving } = await attack(py`
      ${LONG_MESSAGE_ERROR}
      parts = to_js([e] * 20)                  # 20 references: the join guard counts 24 characters each
      s = parts.join('')                       # one flat string of 335 million characters
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('String.prototype.replaceAll with an object as the replacement (counted as no text; its toString gives back a long message) does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      ${LONG_MESSAGE_ERROR}
      S = to_js([1]).valueOf.call('y' * 20)    # a String object
      s = S.replaceAll('y', e)                 # each of 20 matches becomes the 16 MiB message: 335 million characters
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('String.prototype.match with a long string pattern (compiled as a RegExp of millions of alternatives) does not grow memory outside the heap', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).valueOf.call('x')         # a String object
      p = 'a|' * (1 << 22) + 'b'               # 8 MiB of pattern, within the conversion budget
      print(S.match(p))                        # new RegExp(p): the parse and compile live outside the JS heap
    `);
    expect(growthMb, text(r)).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('BigInt.prototype.toString(2) of a big Python int does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      B = to_js([1]).valueOf.call(1 << 2**26)   # 8 MiB int: a BigInt, boxed to a BigInt object
      s = B.toString(2)                         # one flat string of 67 million characters
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('TypedArray.prototype.sort with a comparator on a buffer Python holds does not make one huge work array', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js, create_proxy
      src = to_js(b'x' * (32 * 1024 * 1024))   # 32 MiB, within the conversion budget
      src.sort(create_proxy(lambda a, b: 0))    # V8 copies 33.5 million elements into work arrays first
      print('sorted')
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('the Set constructor (to_js(set).constructor) fed 16 million entries does not grow one huge table', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      Set = to_js({1}).constructor    # Set.prototype.constructor is the real Set
      make = Set.new                  # (taken first: the array below is a danger of its own)
      a = to_js([])
      a.length = 2**24 + 10           # sparse: its entries() are distinct [i, undefined] pairs
      s = make(a.entries())
      print(s.size)
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it("a JavaScript array's length set far past the bound (one allocation past the heap limit) does not crash the server", async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      a = to_js([])
      a.length = 2**24 + 10   # V8 allocates the 128 MiB backing store at once, past the 64 MiB heap
      print(a.length)
    `);
    expect(text(r)).toMatch(/length can be set only/);
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it("Pyodide's own key listings and texts of a big typed array (object_keys, object_values, dir, join, str) do not crash the server", async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      src = to_js(b'x' * (32 * 1024 * 1024))   # within the conversion budget
      done = []
      for name, make in [('object_keys', src.object_keys), ('object_values', src.object_values),
                         ('dir', lambda: dir(src)), ('join', lambda: src.join(',')), ('str', lambda: str(src))]:
          try:
              make()
              done.append(name)   # one string per element: 33.5 million, in one allocation
          except Exception:
              pass
      print('made:', done)
    `);
    expect(alive(r) && r.stdout).toBe('made: []\n');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('one huge allocation inside JavaScript (Object.keys of a 32 MiB Uint8Array) does not crash the server', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      src = to_js(b'x' * (32 * 1024 * 1024))   # within the conversion budget
      Obj = to_js([1]).__proto__.__proto__.constructor
      keys = Obj.keys(src)   # 33.5 million index strings in one array (src.join(',') does the same)
      print(keys.length)
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('JavaScript arrays are bounded, and filling the JavaScript heap does not crash the server', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      Array = to_js([]).constructor
      keep = []
      for i in range(64):
          a = Array.new(4 * 1024 * 1024)
          a.fill(1.5)
          keep.append(a)
      print(len(keep))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('in-memory files are bounded by the quota', async () => {
    const { r, growthMb, serving } = await attack(py`
      chunk = b'x' * (16 * 1024 * 1024)
      with open('/tmp/big.bin', 'wb') as f:
          for i in range(64):
              f.write(chunk)
    `);
    expect(alive(r) && r.error?.code).toBe('MEMORY_LIMIT_EXCEEDED');
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('in-memory files written by a callback that runs after the execution are bounded (and confined)', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.webloop import scheduleCallback
      from pyodide.ffi import create_proxy
      def hoard():
          try:
              chunk = b'x' * (16 * 1024 * 1024)
              with open('/home/pyodide/hoard.bin', 'wb') as f:   # outside the writable roots
                  for i in range(48):
                      f.write(chunk)
          except Exception:
              pass
      scheduleCallback(create_proxy(hoard), 200)   # fires once this execution is over
      'scheduled'
    `, 1000);
    expect(alive(r) && r.result).toBe("'scheduled'");
    const left = await mem.run("import os\nos.path.exists('/home/pyodide/hoard.bin') and os.path.getsize('/home/pyodide/hoard.bin')");
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
    expect(alive(left) && left.result, 'a file outside the writable roots outlived the execution').toBe('False');
  });

  // Each size guard coerces its arguments once and hands the method what it measured: a
  // toString or valueOf that is a stateful library method (list.shift bound to a list of
  // answers) answered small to the guard and huge to the method, one allocation past the heap.
  /**
   * Python: `answer(o, method, first, n)` makes o's `method` (toString, valueOf) a bound
   * Array.prototype.shift: its first n calls answer `first`, the next n a 16 MiB string.
   */
  const STATEFUL_ANSWERS = py`
    from pyodide.ffi import to_js
    big = to_js(['x' * (1 << 24)])           # one 16 MiB JavaScript string, converted (and counted) once
    def answer(o, method, first, n):
        seq = to_js([first] * n).concat(*[big] * n)   # references to the one string, not copies
        setattr(o, method, to_js([]).shift.bind(seq))
        return o
  `;

  it('Array.prototype.join of objects whose toString answers short to the guard and long to the join does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      ${STATEFUL_ANSWERS}
      o = answer(to_js([]), 'toString', 's', 20)
      s = to_js([o] * 20).join('')             # guard: 20 x 's'; join: 20 x 16 MiB = 335 million characters
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it("TypedArray.prototype.join's separator answering short to the guard and long to the join does not make one huge string", async () => {
    const { r, growthMb, serving } = await attack(py`
      ${STATEFUL_ANSWERS}
      sep = answer(to_js([]), 'toString', ',', 1)
      s = to_js(b'x' * 30).join(sep)           # 29 separators of 16 MiB: 486 million characters
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('String.prototype.repeat on a `this` whose toString answers short to the guard and long to repeat does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      ${STATEFUL_ANSWERS}
      S = to_js([1]).valueOf.call('x')         # a String object: String.prototype's methods
      o = answer(to_js([]), 'toString', 'x', 1)
      s = S.repeat.call(o, 20)                 # 20 x 16 MiB
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('String.prototype.replaceAll with an object replacement answering empty to the guard and long to replaceAll does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      ${STATEFUL_ANSWERS}
      S = to_js([1]).valueOf.call('y' * 20)
      by = answer(to_js([]), 'toString', '', 1)
      s = S.replaceAll('y', by)                # 20 matches, each the 16 MiB string
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('String.prototype.padStart with a length whose valueOf answers 1 to the guard and 500 million to padStart does not make one huge string', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      S = to_js([1]).valueOf.call('x')
      n = to_js([])
      n.valueOf = to_js([]).shift.bind(to_js([1, 2**29 - 24]))
      s = S.padStart(n, 'ab')
      print(len(s))
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
  });

  it('Function.prototype.apply with an argument list whose length (a Python property) answers 0 to the guard and 130 million to V8 does not make one huge list', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js, create_proxy
      class Args:
          asked = 0
          @property
          def length(self):
              Args.asked += 1
              return 0 if Args.asked == 1 else 130_000_000
          def __getitem__(self, i):
              return 0
      target = to_js([])
      to_js([1]).push.apply(target, create_proxy(Args()))   # CreateListFromArrayLike: 130 million values at once
      print(target.length, Args.asked)
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
    expect(alive(r) && r.stdout, 'the length is asked once, and the call gets what was measured').toBe('0 1\n');
  });

  it('Array.prototype.toSorted on a Python object whose length answers 0 to the guard and 130 million to V8 does not make one huge array', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js, create_proxy
      class Items:
          asked = 0
          @property
          def length(self):
              Items.asked += 1
              return 0 if Items.asked == 1 else 130_000_000
      out = to_js([]).toSorted.call(create_proxy(Items()))   # a work array of 130 million values at once
      print(out.length, Items.asked)
    `);
    expect(text(r)).not.toContain('no answer');
    expect(serving).toBe(true);
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
    expect(alive(r) && r.stdout, 'the length is asked once, and the method gets a copy of what it held').toBe('0 1\n');
  });

  it('to_js of a memoryview with 40 dimensions is counted by the conversion meter', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import to_js
      b = bytearray(32 * 1024 * 1024)
      m = memoryview(b).cast('B', [1] * 39 + [len(b)])   # 40 dimensions: past the meter's depth
      keep = [to_js(m) for _ in range(48)]               # 1.5 GiB of copies outside WebAssembly
      print(len(keep) * 32, 'MiB of copies')
    `);
    expect(alive(r) && r.error?.code, text(r)).toBe('MEMORY_LIMIT_EXCEEDED');
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });

  it('getBuffer() gives Python no view of the WebAssembly heap: no uncounted copies of it, no writes after release()', async () => {
    const { r, growthMb, serving } = await attack(py`
      from pyodide.ffi import create_proxy
      try:
          heap = create_proxy(bytearray(8)).getBuffer().data.buffer   # the whole heap
          keep = [heap.slice(0) for _ in range(40)]                  # each copy was exempt from the meter
          print('copies of the heap:', len(keep))
      except Exception as e:
          print('heap:', type(e).__name__)
      b = bytearray(100_000)
      try:
          buf = create_proxy(b).getBuffer()
          view = buf.data
          buf.release()
          b.clear()                                   # its memory goes back to the allocator
          victim = bytearray(b'v' * 100_000)          # and is handed to another object
          view.fill(65)                               # a write through the released view
          print('victim overwritten:', victim.count(65))
      except Exception as e:
          print('view:', type(e).__name__)
    `);
    expect(text(r)).not.toContain('copies of the heap');
    expect(text(r)).not.toContain('victim overwritten');
    expect(growthMb).toBeLessThan(MAX_GROWTH_MB);
    expect(serving).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// goal 5: executions are isolated from each other
// ---------------------------------------------------------------------------------------------

describe('one execution cannot see or change another (goal 5)', () => {
  // One worker: attacker and victim always share an interpreter.
  const iso = new SandboxServer({ MAX_CONCURRENT_EXECUTIONS: '1', EXECUTION_TIMEOUT_MS: '10000' });

  beforeAll(() => iso.start());
  afterEach(async () => {
    await iso.ensureHealthy();
    await iso.freshWorker(); // what one attack planted must not decide the next test
  });
  afterAll(() => iso.close());

  /**
   * The victim: ordinary code that uses input(), re, a codec, logging, asyncio and print, with a
   * secret in its code (and so in its namespace) and another in its input.
   */
  async function attackVictimRetrieve(attackCode: string, retrieveCode: string) {
    const nsSecret = secret('ns-secret');
    const pin = `PIN${Math.floor(Math.random() * 1e9)}`;
    const attack = await iso.run(attackCode);
    const victim = await iso.run(
      py`
        import asyncio, logging, re
        NAMESPACE_SECRET = '${nsSecret}'
        pin = input()
        digits = re.findall('[0-9]+', 'pin ' + pin)
        encoded = pin.encode('koi8_r')
        logging.warning('victim log %s', pin)
        await asyncio.sleep(0.2)
        print('victim result', 6 * 7, len(digits), len(encoded))
      `,
      { inputData: [pin] },
    );
    const loot = await iso.run(retrieveCode);
    const expectedStdout = `victim result 42 1 ${pin.length}\n`;
    return { attack, victim, loot, nsSecret, pin, expectedStdout };
  }

  function expectIsolated(o: Awaited<ReturnType<typeof attackVictimRetrieve>>) {
    expect(alive(o.attack), text(o.attack)).toBe(true);
    expect(alive(o.victim) && o.victim.status, text(o.victim)).toBe('success');
    expect(alive(o.victim) && o.victim.stdout, 'the victim output was changed').toBe(o.expectedStdout);
    expect(alive(o.victim) && o.victim.stderr, 'the victim stderr was changed').toBe(`WARNING:root:victim log ${o.pin}\n`);
    const loot = text(o.loot);
    expect(loot, 'the attacker recovered the victim namespace/code secret').not.toContain(o.nsSecret);
    expect(loot, 'the attacker recovered the victim input').not.toContain(o.pin);
  }

  it('patching a library module (json, re.findall) is detected and does not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import re, json, sys
        stash = []
        real = re.findall
        def spy(p, s, *a):
            stash.append(s); return real(p, s, *a)
        re.findall = spy
        json.STASH = stash
      `,
      'import json\nprint(getattr(json, "STASH", None))',
    );
    expectIsolated(o);
  });

  it('sys.modules and meta_path tricks do not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import sys, types, importlib.abc, importlib.machinery
        stash = []
        class Finder(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                ns = sys.modules['__main__'].__dict__
                stash.append({k: v for k, v in ns.items() if isinstance(v, str)})
                return None
        sys.meta_path.insert(0, Finder())
        sys.path_hooks.insert(0, lambda p: (_ for _ in ()).throw(ImportError()))
        fake = types.ModuleType('logging')
        fake.warning = lambda *a: stash.append(a)
        sys.modules['logging'] = fake
        sys.modules['sandbox_loot'] = types.SimpleNamespace(stash=stash)
      `,
      'import sys\nm = sys.modules.get("sandbox_loot")\nprint(m and m.stash, [f for f in sys.meta_path if "Finder" in type(f).__name__])',
    );
    expectIsolated(o);
  });

  it('builtins and sys hooks (input, print, displayhook, excepthook, settrace, stdout) do not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import builtins, sys, io
        stash = []
        real_input = builtins.input
        builtins.input = lambda *a: stash.append('input') or real_input(*a)
        builtins.print = lambda *a, **k: stash.append(a)
        sys.displayhook = lambda v: stash.append(v)
        sys.excepthook = lambda *a: stash.append(a)
        sys.settrace(lambda frame, event, arg: stash.append(dict(frame.f_globals)) or None)
        sys.setprofile(lambda frame, event, arg: stash.append(dict(frame.f_globals)))
        sys.stdin = io.StringIO('forged input\n')
        builtins.sandbox_stash = stash
        sys.sandbox_stash = stash
      `,
      'import builtins, sys\nprint(getattr(builtins, "sandbox_stash", None), getattr(sys, "sandbox_stash", None))',
    );
    expectIsolated(o);
  });

  it('an audit hook does not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import sys
        stash = []
        sys.addaudithook(lambda event, args: stash.append((event, repr(args)[:200])) if event in ('exec', 'compile', 'open') else None)
        sys.sandbox_stash = stash
      `,
      'import sys\nprint(getattr(sys, "sandbox_stash", None))',
    );
    expectIsolated(o);
  });

  it('asyncio: a delayed callback, a task that ignores cancellation, or a task factory does not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import asyncio, sys
        stash = []
        loop = asyncio.get_event_loop()
        def peek():
            stash.append({k: v for k, v in sys.modules['__main__'].__dict__.items() if isinstance(v, str)})
            print('[planted callback]')
        loop.call_later(0.3, peek)
        async def immortal():
            while True:
                try:
                    await asyncio.sleep(0.01)
                    peek()
                except BaseException:
                    pass
        asyncio.ensure_future(immortal())
        loop.set_task_factory(lambda l, coro, **kw: (stash.append('task'), asyncio.Task(coro, loop=l, **kw))[1])
        sys.sandbox_stash = stash
      `,
      'import sys, asyncio\nawait asyncio.sleep(0.3)\nprint(getattr(sys, "sandbox_stash", None))',
    );
    expectIsolated(o);
  });

  it('logging handlers do not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import logging
        stash = []
        class Spy(logging.Handler):
            def emit(self, record):
                stash.append(record.getMessage())
        logging.getLogger().addHandler(Spy())
        logging.getLogger('asyncio').addHandler(Spy())
      `,
      'import logging\nprint([getattr(getattr(h.emit, "__func__", h.emit), "__globals__", {}).get("stash") for h in logging.getLogger().handlers])',
    );
    expectIsolated(o);
  });

  it('logging filters do not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import logging
        stash = []
        logging.getLogger().addFilter(lambda record: stash.append(record.getMessage()) or True)
      `,
      'import logging\nprint([f.__globals__.get("stash") for f in logging.getLogger().filters if hasattr(f, "__globals__")])',
    );
    expectIsolated(o);
  });

  it('codecs.register does not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import codecs, encodings
        stash = []
        real_search = encodings.search_function
        def spy_search(name):
            if name == 'sandbox_loot':
                return codecs.CodecInfo(lambda s, e='strict': (repr(stash).encode(), len(s)), lambda b, e='strict': (repr(stash), len(b)), name='sandbox_loot')
            info = real_search(name)
            if info is None:
                return None
            def encode(s, errors='strict', _enc=info.encode):
                stash.append(s)
                return _enc(s, errors)
            return codecs.CodecInfo(encode, info.decode, name=info.name)
        codecs.unregister(real_search)     # the spy goes first for every codec not yet looked up
        codecs.register(spy_search)
      `,
      "try:\n    print('x'.encode('sandbox_loot'))\nexcept LookupError:\n    print('no loot codec')",
    );
    expectIsolated(o);
  });

  it('caches inside library modules (re._cache) do not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import re
        stash = []
        class SpyPattern:
            def __init__(self, real): self.real = real
            def __getattr__(self, n): return getattr(self.real, n)
            def findall(self, s, *a):
                stash.append(s); return self.real.findall(s, *a)
        for cache in (re._cache, re._cache2):
            cache[(str, '[0-9]+', 0)] = SpyPattern(re.compile('[0-9]+', re.NOFLAG))
        re._cache2[(str, 'SANDBOX_LOOT', 0)] = stash
      `,
      "import re\nprint(re._cache2.get((str, 'SANDBOX_LOOT', 0)))",
    );
    expectIsolated(o);
  });

  it('atexit and gc.callbacks do not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import atexit, gc, sys
        stash = []
        atexit.register(lambda: print('[atexit ran]'))
        gc.callbacks.append(lambda phase, info: stash.append({k: v for k, v in sys.modules['__main__'].__dict__.items() if isinstance(v, str)}))
        sys.sandbox_stash = stash
      `,
      'import sys, gc\ngc.collect()\nprint(getattr(sys, "sandbox_stash", None), gc.callbacks)',
    );
    expectIsolated(o);
  });

  it('JavaScript prototypes (Object.prototype setters, Array.prototype) cannot be changed', async () => {
    const o = await attackVictimRetrieve(
      py`
        ${JS_INTRINSICS}
        stash = []
        spy_fn = lambda *a: stash.append(a)
        spy = create_proxy(spy_fn)
        for label, target in [('Object.prototype', Obj.prototype), ('Array.prototype', to_js([]).__proto__), ('Function.prototype', Fn.prototype), ('Map.prototype', to_js({'a': 1}).__proto__)]:
            for key in ('toJs', 'write', 'then', 'push', 'call', 'apply', 'get', 'destroy'):
                try:
                    desc = to_js({'set': spy, 'get': spy, 'configurable': True}, dict_converter=Obj.fromEntries)
                    Obj.defineProperty(target, key, desc)
                except Exception:
                    pass
                try:
                    setattr(target, key, spy)
                except Exception:
                    pass
                n = len(stash)
                if getattr(target, key, None) is spy_fn or len(stash) > n:
                    print('CHANGED', label, key)
      `,
      'print("nothing to retrieve")',
    );
    expect(text(o.attack)).not.toContain('CHANGED');
    expectIsolated(o);
  });

  it('the JavaScript prototype of PyProxies (reached through create_proxy) cannot be changed', async () => {
    const o = await attackVictimRetrieve(
      py`
        import sys
        ${JS_INTRINSICS}
        def spy(this, *args):
            # the worker calls destroy() on each run's namespace (a dict) when the run ends
            if isinstance(this, dict) and this.get('__name__') == '__main__':
                sys.__dict__.setdefault('sandbox_loot', []).append({k: v for k, v in this.items() if isinstance(v, str)})
        spy_proxy = create_proxy(spy, capture_this=True)
        holder = to_js([create_proxy({'a': 1})])          # a dict PyProxy inside a JS array
        protos = holder.map(Obj.getPrototypeOf)          # its prototype never crosses into Python
        desc = to_js({'value': spy_proxy, 'writable': True, 'configurable': True}, dict_converter=Obj.fromEntries)
        call = Fn.prototype.apply.bind(Obj.defineProperty, None)
        _ = to_js([protos.concat(to_js(['destroy', desc]))]).map(call)   # Object.defineProperty(proto, 'destroy', desc)
      `,
      'import sys\nprint(getattr(sys, "sandbox_loot", None))',
    );
    expectIsolated(o);
  });

  it("the harness's own globals (reached through time.sleep.__globals__) cannot be changed", async () => {
    const o = await attackVictimRetrieve(
      py`
        import time, types
        g = time.sleep.__globals__                      # the harness module's namespace
        loot = g.setdefault('_sandbox_loot', [])
        class Spy:
            def __init__(self, inner): self._inner = inner
            def __getattr__(self, n): return getattr(self._inner, n)
            def readline(self, *a):
                line = self._inner.readline(*a); loot.append(line); return line
            def write(self, s):
                loot.append(s); return self._inner.write(s.replace('42', '666'))
        state = g['_state']
        state.sys_attrs['stdin'] = Spy(state.sys_attrs['stdin'])    # restored into sys after every run
        state.sys_attrs['stdout'] = Spy(state.sys_attrs['stdout'])
        real_ast = g['ast']
        fake = types.ModuleType('ast'); fake.__dict__.update(vars(real_ast))
        fake.parse = lambda src, *a, **k: (loot.append(src), real_ast.parse(src, *a, **k))[1]
        g['ast'] = fake                                  # prepare() parses every run's code with it
      `,
      'import time\nprint(getattr(time.sleep, "__globals__", {}).get("_sandbox_loot"))',
    );
    expectIsolated(o);
  });

  it('a callback left scheduled with pyodide.webloop.scheduleCallback cannot watch the next run', async () => {
    const o = await attackVictimRetrieve(
      py`
        import sys
        from pyodide.webloop import scheduleCallback
        from pyodide.ffi import create_proxy
        stash = []
        def tick():
            ns = sys.modules['__main__'].__dict__
            if 'NAMESPACE_SECRET' in ns and ns['NAMESPACE_SECRET'] not in stash:
                stash.append(ns['NAMESPACE_SECRET'])
                stash.append(ns.get('pin'))
                print('[planted callback]')
            if 'want_loot' in ns:
                ns['loot'] = list(stash)
            scheduleCallback(proxy, 5)
        proxy = create_proxy(tick)
        scheduleCallback(proxy, 5)
      `,
      'import asyncio\nwant_loot = True\nawait asyncio.sleep(0.3)\nprint(globals().get("loot"))',
    );
    expectIsolated(o);
  });

  it('hooks on the Pyodide API object (found with gc.get_objects) do not reach the victim', async () => {
    const o = await attackVictimRetrieve(
      py`
        import sys
        ${JS_INTRINSICS}
        ${FIND_API}
        stash = sys.__dict__.setdefault('sandbox_loot', [])
        if api is not None:
            real_set_stdout = api.setStdout
            def hooked(options):
                write = options.write
                def spy(buf):
                    stash.append(bytes(buf.to_py()))
                    return write(buf)
                real_set_stdout(to_js({'write': create_proxy(spy), 'isatty': False}, dict_converter=Obj.fromEntries))
            api.setStdout = create_proxy(hooked)
      `,
      'import sys\nprint(getattr(sys, "sandbox_loot", None))',
    );
    expectIsolated(o);
  });

  /** Attacker, then a victim of the test's own, then the attacker again: the victim must run as on a fresh worker. */
  async function sequence(attackCode: string, victimCode: string, retrieveCode: string, victimOptions: { inputData?: string[] } = {}) {
    const attack = await iso.run(attackCode);
    const victim = await iso.run(victimCode, victimOptions);
    const loot = await iso.run(retrieveCode);
    return { attack, victim, loot };
  }

  it('a finalizer (__del__) that the reset between runs triggers cannot patch modules, use ctypes or gc, or write outside the run', async () => {
    // builtins.__dict__.clear() in the harness's clean-up drops the last reference to the object:
    // its __del__ runs after the run, with the audit hook, the dict watchers and the file guard off.
    const o = await attackVictimRetrieve(
      py`
        import builtins, textwrap
        src = textwrap.dedent('''
        def bomb_del(self, imp=__import__, open=open, len=len, repr=repr, BaseException=BaseException):
            sys = imp('sys'); re = imp('re'); gc = imp('gc')
            log = sys.__dict__.setdefault('sandbox_loot', [])
            try:
                log.append(('gc.get_objects', len(gc.get_objects())))
            except BaseException as e:
                log.append(('gc refused', repr(e)))
            try:
                ctypes = imp('ctypes')
                log.append(('ctypes', ctypes.string_at(ctypes.addressof(ctypes.c_int(7)), 1)))
            except BaseException as e:
                log.append(('ctypes refused', repr(e)))
            try:
                with open(sys.path[-1] + '/sandbox_planted.py', 'w') as f:
                    f.write('PLANTED = True\\n')
                log.append(('wrote', sys.path[-1]))
            except BaseException as e:
                log.append(('write refused', repr(e)))
            real = re.findall
            def spy(p, s, *a, **k):
                log.append(s)
                return real(p, s, *a, **k)
            re.findall = spy
        ''')
        g = {'__builtins__': builtins, '__name__': 'json'}
        exec(src, g)
        Bomb = type('Bomb', (), {'__del__': g['bomb_del'], '__module__': 'json'})
        builtins.sandbox_bomb = Bomb()
        del g, Bomb, src
      `,
      py`
        import sys
        print(sys.__dict__.get('sandbox_loot'))
        try:
            import sandbox_planted
            print('PLANTED MODULE IMPORTED')
        except ImportError:
            pass
      `,
    );
    const loot = text(o.loot);
    expect(loot, 'gc.get_objects ran outside a run').not.toContain("'gc.get_objects'");
    expect(loot, 'ctypes ran outside a run').not.toContain("('ctypes', b");
    expect(loot, 'a file was written outside the writable roots').not.toContain("'wrote'");
    expect(loot).not.toContain('PLANTED MODULE IMPORTED');
    expectIsolated(o);
  });

  it('a finalizer left in cyclic garbage (resurrecting itself) does not run inside the victim', async () => {
    const nsSecret = secret('ns-secret');
    const o = await sequence(
      py`
        import sys
        class Ghost:
            stash = []
            def __del__(self):
                ns = sys.modules['__main__'].__dict__
                if 'want_loot' in ns:
                    ns['loot'] = list(Ghost.stash)
                Ghost.stash.extend(v for k, v in list(ns.items()) if isinstance(v, str) and 'SECRET' in k)
                print('[ghost ran]')
                g = Ghost(); g.me = g      # back in the garbage for the next collection
        g = Ghost(); g.me = g
        del g
      `,
      py`
        NAMESPACE_SECRET = '${nsSecret}'
        rows = [{'i': i} for i in range(50000)]
        print('victim', len(rows))
      `,
      'import gc\nwant_loot = True\ngc.collect()\nprint(globals().get("loot"))',
    );
    expect(alive(o.victim) && o.victim.stdout, 'the victim output was changed').toBe('victim 50000\n');
    expect(text(o.loot)).not.toContain(nsSecret);
  });

  it('gc.set_debug(DEBUG_SAVEALL) does not hand the victim namespace to the next run through gc.garbage', async () => {
    const nsSecret = secret('ns-secret');
    const o = await sequence(
      'import gc\ngc.set_debug(gc.DEBUG_SAVEALL)',
      py`
        NAMESPACE_SECRET = '${nsSecret}'
        def helper():
            return 42
        print(helper())
      `,
      py`
        import gc
        gc.collect()
        print(gc.get_debug(), [o.get('NAMESPACE_SECRET') for o in gc.garbage if isinstance(o, dict) and 'NAMESPACE_SECRET' in o])
      `,
    );
    expect(alive(o.victim) && o.victim.stdout).toBe('42\n');
    expect(text(o.loot)).not.toContain(nsSecret);
  });

  it("__class__ assignment on a library module, the event loop or json's default encoder does not reach the victim", async () => {
    const o = await attackVictimRetrieve(
      py`
        import re, json, asyncio, sys, types
        stash = []
        class SpyModule(types.ModuleType):
            def __getattribute__(self, name):
                value = super().__getattribute__(name)
                if name == 'findall':
                    return lambda *a, **k: (stash.append(a), value(*a, **k))[1]
                return value
        re.__class__ = SpyModule
        loop = asyncio.get_event_loop()
        class SpyLoop(type(loop)):
            def create_task(self, coro, **kw):
                ns = getattr(coro, 'cr_frame', None) and coro.cr_frame.f_locals.get('ns')
                if isinstance(ns, dict):
                    stash.append(ns)                      # the victim's namespace, filled in as it runs
                return super().create_task(coro, **kw)
        loop.__class__ = SpyLoop
        class SpyEncoder(json.JSONEncoder):
            def encode(self, o):
                stash.append(o)
                return super().encode(o)
        json._default_encoder.__class__ = SpyEncoder
        SpyModule.stash = stash
      `,
      py`
        import re, json, asyncio
        print(type(re).__name__, type(asyncio.get_event_loop()).__name__, type(json._default_encoder).__name__)
        print([{k: v for k, v in s.items() if isinstance(v, str)} if isinstance(s, dict) else s for s in getattr(type(re), 'stash', [])])
      `,
    );
    expect(text(o.loot)).not.toContain('Spy');
    expectIsolated(o);
  });

  it('codecs.register_error (replacing the built-in handlers) does not reach the victim', async () => {
    const pin = `PIN${Math.floor(Math.random() * 1e9)}`;
    const o = await sequence(
      py`
        import codecs
        stash = []
        def spy(exc):
            stash.append(exc.object)
            return ('PWNED', exc.end)
        for name in ('strict', 'replace', 'ignore', 'backslashreplace', 'surrogateescape', 'xmlcharrefreplace', 'namereplace'):
            codecs.register_error(name, spy)
        codecs.register_error('sandbox_loot', lambda e: (repr(stash), e.end))
      `,
      py`
        pin = input()
        print(('\ud800' + pin).encode('utf-16-le', 'replace').decode('utf-16-le'))
        print(('\u2603' + pin).encode('latin-1', 'namereplace').decode('latin-1'))
      `,
      "print('\\u2603'.encode('ascii', 'sandbox_loot'))",
      { inputData: [pin] },
    );
    expect(alive(o.victim) && o.victim.stdout, 'the victim output was changed').toBe(`?${pin}\n\\N{SNOWMAN}${pin}\n`);
    expect(text(o.loot)).not.toContain(pin);
  });

  it("the logging manager's logger class does not reach the victim", async () => {
    const pin = `PIN${Math.floor(Math.random() * 1e9)}`;
    const o = await sequence(
      py`
        import logging
        stash = []
        class SpyLogger(logging.Logger):
            def _log(self, level, msg, args, *a, **k):
                stash.append(msg % args if args else msg)
                return super()._log(level, msg, args, *a, **k)
        SpyLogger.stash = stash
        logging.Logger.manager.loggerClass = SpyLogger
      `,
      py`
        import logging
        log = logging.getLogger('victim.app')
        log.warning('login with %s', input())
      `,
      "import logging\nprint(getattr(type(logging.getLogger('victim.other')), 'stash', None))",
      { inputData: [pin] },
    );
    expect(alive(o.victim) && o.victim.stderr).toBe(`login with ${pin}\n`);
    expect(text(o.loot)).not.toContain(pin);
  });

  it("code planted in a library table under another file name and __module__ (encodings._cache) does not reach the victim", async () => {
    // The watcher tells planted code by its file name (<code>) or __module__ (__main__): both are the code's to choose.
    const o = await attackVictimRetrieve(
      py`
        import codecs, encodings, encodings.koi8_r as k8
        stash = []
        g = {'__name__': 'encodings.koi8_r', 'STASH': stash, 'REAL': k8.Codec()}
        exec(compile(
            'def encode(s, errors="strict"):\n    STASH.append(s)\n    return REAL.encode(s, errors)\n'
            'def loot(s, errors="strict"):\n    return repr(STASH).encode(), len(s)\n',
            k8.__file__, 'exec'), g)
        encodings._cache['koi8_r'] = codecs.CodecInfo(g['encode'], k8.Codec().decode, name='koi8-r')
        encodings._cache['sandbox_loot'] = codecs.CodecInfo(g['loot'], k8.Codec().decode, name='sandbox_loot')
        del g
      `,
      "try:\n    print('x'.encode('sandbox_loot'))\nexcept LookupError:\n    print('no loot codec')",
    );
    expectIsolated(o);
  });

  it('decimal.DefaultContext, sys.stdout.reconfigure and ABC registrations do not reach the victim', async () => {
    const o = await sequence(
      py`
        import decimal, sys, collections.abc
        decimal.DefaultContext.prec = 3
        collections.abc.Mapping.register(list)
        sys.stdout.reconfigure(encoding='ascii', newline='\r\n')
      `,
      py`
        import decimal, collections.abc
        print(decimal.Decimal(1) / decimal.Decimal(7), isinstance([], collections.abc.Mapping))
        print('caf\u00e9')
      `,
      'print("nothing to retrieve")',
    );
    expect(alive(o.victim) && o.victim.status, text(o.victim)).toBe('success');
    expect(alive(o.victim) && o.victim.stdout, 'the victim output was changed').toBe('0.1428571428571428571428571429 False\ncaf\u00e9\n');
  });

  it("input a run left unread in sys.stdin's buffer is not what the next run's input() returns", async () => {
    const pin = `PIN${Math.floor(Math.random() * 1e9)}`;
    // Reading one character pulls the rest of the line into sys.stdin's buffer, where it stays.
    const forged = await iso.run('import sys\nsys.stdin.read(1)', { inputData: ['XFORGED-INPUT'] });
    const victim = await iso.run("print('victim got', input())", { inputData: [pin] });
    expect(alive(forged)).toBe(true);
    expect(alive(victim) && victim.stdout, 'the victim read input it was not given').toBe(`victim got ${pin}\n`);
  });

  it('standard descriptors a run closed or replaced (os.close, os.dup2) are put back for the next run', async () => {
    const pin = `PIN${Math.floor(Math.random() * 1e9)}`;
    // fd 1 and 2 onto a file of the run's (the next run's prints would go there), fd 0 closed.
    const attack = await iso.run(py`
      import os
      fd = os.open('/tmp/loot.txt', os.O_WRONLY | os.O_CREAT)
      os.dup2(fd, 1)
      os.dup2(fd, 2)
      os.close(0)
    `);
    const victim = await iso.run("import sys\nprint('victim got', input())\nprint('to stderr', file=sys.stderr)", { inputData: [pin] });
    expect(alive(attack)).toBe(true);
    expect(alive(victim) && victim.stdout, text(victim)).toBe(`victim got ${pin}\n`);
    expect(alive(victim) && victim.stderr).toBe('to stderr\n');
  });

  it("Pyodide's JsProxy classes (type(to_js([]))) cannot be patched for the next run", async () => {
    const nsSecret = secret('ns-secret');
    const o = await sequence(
      py`
        from pyodide.ffi import to_js
        JsArray = type(to_js([1]))          # made by Pyodide at run time: in no module's namespace
        real = JsArray.to_py
        stash = []
        def to_py(self, *a, **k):
            value = real(self, *a, **k)
            stash.append(value)
            return value
        JsArray.to_py = to_py
        JsArray.sandbox_stash = stash
      `,
      py`
        from pyodide.ffi import to_js
        print(to_js(['${nsSecret}']).to_py())
      `,
      "from pyodide.ffi import to_js\nprint(getattr(type(to_js([1])), 'sandbox_stash', None))",
    );
    expect(alive(o.victim) && o.victim.stdout).toBe(`['${nsSecret}']\n`);
    expect(text(o.loot)).not.toContain(nsSecret);
  });
});

afterAll(async () => {
  await general.close();
});
