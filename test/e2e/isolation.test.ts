import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Every call outside a session starts from the worker's reset point: one worker, so each test's
 * second call runs in the interpreter the first one used, and must find it as it was before.
 * One test per class of state a run can leave behind (issue 11), not per route.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '1' });
});
afterAll(async () => {
  await server?.close();
});


type Health = { pool: { workerRestarts: number; restartsByReason: Record<string, number> } };
const restarts = async (s: TestServer) => ((await s.call('health_check')).structuredContent as Health).pool.workerRestarts;

/**
 * Run the attack, then the check, in the same interpreter: the check's stdout is returned. The
 * worker is not replaced in between (that would hide the state rather than reset it).
 */
async function after(attack: string, check: string, extra: Record<string, unknown> = {}): Promise<string> {
  const before = await restarts(server);
  const a = await server.run(attack);
  expect(a.error?.code, a.error?.message).toBeUndefined();
  const b = await server.run(check, extra);
  expect(b.error?.message ?? null).toBeNull();
  expect(await restarts(server)).toBe(before);
  return b.stdout;
}

describe('nothing a run does in Python survives it', () => {
  it('instance attributes of sys.stdout and sys.stderr (a recorder of later output)', async () => {
    const out = await after(
      'import sys\nlog = []\nsys.stdout.write = log.append\nsys.stderr.write = log.append\nsys.stdout.flush = log.clear',
      'import sys\nprint("SECRET-1")\nprint(type(sys.stdout.write).__name__, "write" in vars(sys.stdout), "write" in vars(sys.stderr))',
    );
    expect(out).toBe('SECRET-1\nbuiltin_function_or_method False False\n');
  });

  it('logging handlers and methods of the root logger', async () => {
    const out = await after(
      'import logging\nrecords = []\nlogging.root.handle = records.append\nlogging.root.addHandler(logging.NullHandler())\nlogging.root.setLevel(logging.DEBUG)',
      'import logging\nprint("handle" in vars(logging.root), logging.root.handlers, logging.root.level)',
    );
    expect(out).toBe('False [] 30\n');
  });

  it('attributes of sys, and the input() of a later call', async () => {
    const out = await after(
      'import sys, functools\nsys.platform = "win32"\nsys.stdin.readline = functools.partial(str, "FORGED\\n")\nsys.ps1 = "owned"\nsys.path.insert(0, "/tmp")',
      'import sys\nprint(sys.platform, hasattr(sys, "ps1"), sys.path[0] == "/tmp")\nprint(input())',
      { inputData: ['the caller line'] },
    );
    expect(out).toBe('emscripten False False\nthe caller line\n');
  });

  it('module constants and functions of the standard library', async () => {
    const out = await after(
      'import math, json, os\nmath.pi = 3\njson.dumps = lambda *a, **k: "forged"\nos.environ["SECRET"] = "x"\nos.sep = "\\\\"',
      'import math, json, os\nprint(math.pi, json.dumps([1]), "SECRET" in os.environ, os.sep)',
    );
    expect(out).toBe('3.141592653589793 [1] False /\n');
  });

  it('the codec registry and cache', async () => {
    const out = await after(
      'import codecs, encodings\nencodings._cache["utf-8"] = codecs.lookup("latin-1")\ncodecs.register(lambda name: codecs.lookup("rot13") if name == "ascii2" else None)\ncodecs.register_error("strict", codecs.ignore_errors)',
      'import codecs\nprint("é".encode(), codecs.lookup("utf-8").name)\ntry:\n    codecs.lookup("ascii2")\nexcept LookupError:\n    print("no ascii2")',
    );
    expect(out).toBe("b'\\xc3\\xa9' utf-8\nno ascii2\n");
  });

  it('modules first imported during a run, and what the run did to them', async () => {
    const out = await after(
      'import ftplib, pstats, mimetypes\nmimetypes.types_map[".py"] = "application/evil"\nimport sys\nsys.modules["json"] = ftplib',
      'import sys, json\nprint("ftplib" in sys.modules, "pstats" in sys.modules, json.__name__)\nimport mimetypes\nprint(mimetypes.guess_type("a.py")[0])',
    );
    expect(out).toBe('False False json\ntext/x-python\n');
  });

  it('interpreter and locale settings', async () => {
    const out = await after(
      'import sys, gc, locale, decimal\nsys.setrecursionlimit(60)\nsys.set_int_max_str_digits(700)\ngc.disable()\ngc.set_debug(gc.DEBUG_SAVEALL)\nlocale.setlocale(locale.LC_ALL, "C")\ndecimal.getcontext().prec = 3\ndecimal.DefaultContext.prec = 2',
      'import sys, gc, decimal\nprint(sys.getrecursionlimit() > 60, sys.get_int_max_str_digits(), gc.isenabled(), gc.get_debug(), decimal.getcontext().prec, decimal.DefaultContext.prec)',
    );
    expect(out).toBe('True 4300 True 0 28 28\n');
  });

  it('the working directory and /tmp: files, removal, permissions and links', async () => {
    const out = await after(
      [
        'import os, shutil',
        'open("left.txt", "w").write("secret")',
        'open("/tmp/left.txt", "w").write("secret")',
        'os.symlink("/lib", "/tmp/lib")',
        'os.mkdir("sub"); os.chmod("sub", 0)',
        'os.chmod(".", 0o500)',
        'os.chmod("/tmp", 0o500)',
        'for p in ("/tmp", os.getcwd()):',
        '    try:\n        os.rmdir(p)\n    except OSError:\n        pass',
        'os.chdir("/")',
      ].join('\n'),
      [
        'import os, json',
        'print(os.getcwd(), sorted(os.listdir(".")), sorted(os.listdir("/tmp")))',
        'open("new.txt", "w").write("ok"); open("/tmp/new.txt", "w").write("ok")',
        'print(oct(os.stat(".").st_mode & 0o777), oct(os.stat("/tmp").st_mode & 0o777), json.dumps([1]))',
      ].join('\n'),
    );
    expect(out).toBe("/home/pyodide/work [] []\n0o777 0o777 [1]\n");
  });

  it('input a previous caller gave, in the memory the next run gets', async () => {
    const secret = 'S3CRET-' + Math.random().toString(36).slice(2);
    const a = await server.run('data = input() * 1000\nkept = [data]', { inputData: [secret] });
    expect(a.status).toBe('success');
    // The whole heap, as far as a run can read it (a buffer's view leads to the WebAssembly
    // memory), read in chunks after making room, so that reading never grows (and detaches) it.
    const b = await server.run(
      [
        'from pyodide.ffi import create_proxy',
        // Made at run time from its reverse, and looked for twice in a row (the caller's input was
        // repeated): the check's own source and needle are not what it finds.
        `needle = ${JSON.stringify([...secret].reverse().join(''))}[::-1].encode()`,
        'def twice(chunk):\n    i = chunk.find(needle)\n    while i >= 0:\n        if chunk.startswith(needle, i + len(needle)):\n            return True\n        i = chunk.find(needle, i + 1)\n    return False',
        'pad = bytearray(64 << 20)\ndel pad',
        'found = scanned = 0',
        'try:\n    size = create_proxy(bytearray(8)).getBuffer().data.buffer.byteLength\n    for at in range(0, size, 1 << 20):\n        chunk = create_proxy(bytearray(8)).getBuffer().data.buffer.slice(at, at + (1 << 20) + 64).to_bytes()\n        scanned += len(chunk)\n        found = found or twice(chunk)\nexcept Exception as e:\n    print("no heap view:", type(e).__name__)',
        'print("found" if found else "clean", scanned > (30 << 20))',
      ].join('\n'),
    );
    // (A run that cannot read the heap at all passes too: then nothing of it can leak this way.)
    expect(b.stdout).toMatch(/^(clean True|no heap view: \w+\nclean False)\n$/);
  });
});

describe('nothing JavaScript-side a run sets up survives it', () => {
  it('timers, pending tasks and proxies handed to JavaScript never call back into the next run', async () => {
    const a = await server.run(
      [
        'import asyncio',
        'from pyodide.ffi import create_proxy',
        'import pyodide.webloop as w',
        'loop = asyncio.get_event_loop()',
        'loop.call_later(0.05, print, "LATE TIMER")',
        'async def later():\n    await asyncio.sleep(0.05)\n    print("LATE TASK")',
        'task = asyncio.ensure_future(later())',
        'w.scheduleCallback(create_proxy(lambda: print("LATE PROXY")), 50)',
      ].join('\n'),
    );
    expect(a.status).toBe('success');
    const b = await server.run('import time, asyncio\nawait asyncio.sleep(0.2)\ntime.sleep(0.1)\nprint("quiet")');
    expect(b.stdout).toBe('quiet\n');
    expect((await server.run('6 * 7')).result).toBe('42');
  });

  it('JavaScript values the reset point holds stay usable, and take no property a run sets', async () => {
    const a = await server.run(
      'import pyodide.webloop as w, gc\ntry:\n    w.scheduleCallback.mark = "left"\nexcept Exception as e:\n    print(type(e).__name__)\ndel w.scheduleCallback\ngc.collect()',
    );
    expect(a.stdout).toBe('JsException\n');
    const b = await server.run('import asyncio, pyodide.webloop as w\nawait asyncio.sleep(0.01)\nprint(hasattr(w.scheduleCallback, "mark"))');
    expect(b.stdout).toBe('False\n');
  });
});

describe('everyday code keeps its worker', () => {
  const snippets = [
    'import re\nprint(re.compile(r"(\\d+)-(\\d+)").findall("1-2 3-4"))',
    'import argparse\np = argparse.ArgumentParser()\np.add_argument("--n", type=int)\nprint(p.parse_args(["--n", "3"]).n)',
    'import email\nfrom email.message import EmailMessage\nm = EmailMessage()\nm["Subject"] = "hi"\nm.set_content("body")\nprint(m["Subject"])',
    'import email.policy\nprint(email.policy.default.max_line_length)',
    'import xml.etree.ElementTree as ET\nprint(ET.fromstring("<a><b>1</b></a>").find("b").text)',
    'import tarfile, io\nbuf = io.BytesIO()\nwith tarfile.open(fileobj=buf, mode="w") as t:\n    pass\nprint(len(buf.getvalue()) > 0)',
    'import http.client\nprint(http.client.responses[404])',
    'import unittest\nclass T(unittest.TestCase):\n    def test(self):\n        self.assertEqual(1, 1)\nr = unittest.TextTestRunner(stream=__import__("io").StringIO()).run(unittest.defaultTestLoader.loadTestsFromTestCase(T))\nprint(r.wasSuccessful())',
    'import json, collections\nprint(json.dumps(collections.Counter("hello").most_common(2)))',
    'import datetime\nprint(datetime.date(2024, 2, 29) + datetime.timedelta(days=1))',
    'import statistics\nprint(statistics.mean([1, 2, 3, 4]))',
    'import csv, io\nprint(list(csv.reader(io.StringIO("a,b\\n1,2"))))',
    'import dataclasses\n@dataclasses.dataclass\nclass P:\n    x: int\nprint(P(1))',
    'import logging\nlogging.basicConfig(level=logging.INFO)\nlogging.getLogger("x").info("hello")',
    'import threading\nprint(threading.current_thread().name)',
    'import decimal, fractions\nprint(decimal.Decimal("1.1") + decimal.Decimal("2.2"), fractions.Fraction(1, 3) * 3)',
  ];

  it('sixteen everyday snippets, three rounds, two at a time on a pool of two, without one worker replacement', async () => {
    const pool = await startServer({ MAX_CONCURRENT_EXECUTIONS: '2' });
    try {
      for (let round = 0; round < 3; round += 1) {
        for (let i = 0; i < snippets.length; i += 2) {
          const results = await Promise.all(snippets.slice(i, i + 2).map((code) => pool.run(code)));
          results.forEach((r, k) => expect(r.error?.message ?? null, snippets[i + k]).toBeNull());
        }
      }
      const report = (await pool.call('health_check')).structuredContent as Health;
      expect(report.pool.restartsByReason).toEqual({});
      expect(report.pool.workerRestarts).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

describe('warm imports', () => {
  it('the snapshot holds everyday modules and those WARM_IMPORTS names; a name that cannot be imported is reported, not fatal', async () => {
    // A cache of its own: this snapshot is another one, which must not push the suite's out.
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-pyexec-warm-'));
    const warm = await startServer({ MAX_CONCURRENT_EXECUTIONS: '1', WARM_IMPORTS: 'ftplib no_such_module_here', PACKAGE_CACHE_DIR: cache });
    try {
      const r = await warm.run('import sys\nprint([m in sys.modules for m in ("email.policy", "argparse", "unittest", "ftplib", "pydoc")])');
      expect(r.stdout).toBe('[True, True, True, True, False]\n');
      expect(warm.stderr()).toMatch(/"modules":\["no_such_module_here"\].*WARM_IMPORTS: these modules could not be imported/);
    } finally {
      await warm.close();
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
