import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '1' });
});
afterAll(async () => {
  await server?.close();
});

describe('asyncio.run and friends', () => {
  it('returns the coroutine result of asyncio.run in the __main__ idiom', async () => {
    const r = await server.run(
      "import asyncio\nasync def main():\n    await asyncio.sleep(0.01)\n    return 42\nif __name__ == '__main__':\n    print(asyncio.run(main()))",
    );
    expect(r.stdout).toBe('42\n');
  });

  it('propagates the exception a coroutine raises, with the user frames', async () => {
    const r = await server.run("import asyncio\nasync def main():\n    raise ValueError('boom')\nasyncio.run(main())");
    expect(r.error?.message).toBe('ValueError: boom (line 3)');
    // asyncio's own frames stay, as CPython shows them; the sandbox's are gone.
    expect(r.error?.details?.traceback).toMatch(/File "<code>", line 4, in <module>[\s\S]*File "<code>", line 3, in main/);
    expect(r.error?.details?.traceback).not.toMatch(/compat_asyncio/);
  });

  it('runs loop.run_until_complete and asyncio.Runner', async () => {
    const r = await server.run(
      'import asyncio\nasync def f(x):\n    return x\nprint(asyncio.get_event_loop().run_until_complete(f(1)))\nloop = asyncio.new_event_loop()\nprint(loop.run_until_complete(f(2)))\nloop.close()\nwith asyncio.Runner() as runner:\n    print(runner.run(f(3)))',
    );
    expect(r.stdout).toBe('1\n2\n3\n');
  });

  it('says to use top-level await where the coroutine waits on JavaScript', async () => {
    const r = await server.run('import asyncio\nasync def main():\n    await asyncio.get_running_loop().create_future()\nasyncio.run(main())');
    expect(r.error?.code).toBe('PYTHON_ERROR');
    expect(r.text.split('\n')[0]).toMatch(/Next: use top-level await/);
  });

  it('still stops asyncio.run at the time limit', async () => {
    const r = await server.run('import asyncio\nasync def main():\n    while True:\n        await asyncio.sleep(0.05)\nasyncio.run(main())', { timeoutMs: 1500 });
    expect(r.error?.code).toBe('EXECUTION_TIMEOUT');
    const next = await server.run('print("next")');
    expect(next.stdout).toBe('next\n');
  });
});

describe('time zones', () => {
  it('knows America/New_York with its DST, UTC and the list of zones', async () => {
    const r = await server.run(
      "from zoneinfo import ZoneInfo, available_timezones\nfrom datetime import datetime\nny = ZoneInfo('America/New_York')\nprint(datetime(2024, 1, 15, 12, tzinfo=ny).strftime('%Z %z'), datetime(2024, 7, 15, 12, tzinfo=ny).strftime('%Z %z'))\nprint(ZoneInfo('UTC'), 'Europe/Berlin' in available_timezones())",
    );
    expect(r.stdout).toBe('EST -0500 EDT -0400\nUTC True\n');
  });

  it('raises a plain ZoneInfoNotFoundError for an unknown zone, with user frames only', async () => {
    const r = await server.run("import zoneinfo\nzoneinfo.ZoneInfo('Mars/Olympus')");
    expect(r.error?.details?.type).toBe('ZoneInfoNotFoundError');
    expect(r.error?.details?.traceback).toMatchInlineSnapshot(`
      "Traceback (most recent call last):
        File "<code>", line 2, in <module>
          zoneinfo.ZoneInfo('Mars/Olympus')
          ~~~~~~~~~~~~~~~~~^^^^^^^^^^^^^^^^
      zoneinfo._common.ZoneInfoNotFoundError: 'No time zone found with key Mars/Olympus'
      "
    `);
  });

  it('refuses writes into the time-zone database', async () => {
    const r = await server.run("open('/usr/share/zoneinfo/UTC', 'wb')");
    expect(r.error?.details?.type).toMatch(/OSError|PermissionError/);
  });
});

describe('the operating system as an unprivileged user', () => {
  it('answers os, pwd, grp and getpass as uid 1000, without costing the worker', async () => {
    const r = await server.run(
      'import os, pwd, grp, getpass\nprint(os.getuid(), os.geteuid(), os.getgid(), os.getegid())\nprint(pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name, getpass.getuser())',
    );
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe('1000 1000 1000 1000\nweb_user web_user web_user\n');
    const health = await server.call('health_check');
    expect(JSON.stringify(health.structuredContent)).not.toMatch(/interpreter failed/);
  });

  it('reads getpass.getpass from inputData', async () => {
    const r = await server.run('import getpass\nsecret = getpass.getpass("Token: ")\nprint(len(secret))', { inputData: ['hunter2'] });
    expect(r.stdout).toBe('7\n');
    expect(r.stderr).toBe('Token: ');
  });

  it('reads a line of input longer than a read buffer whole, and non-ASCII input as it was sent', async () => {
    const long = 'x'.repeat(20_000); // Pyodide's own stdin handler cut it at 8192 characters
    const r = await server.run('a = input()\nb = input()\n(len(a), a == "x" * 20000, b)', { inputData: [long, 'héllo wörld ✓'] });
    expect(r.result, JSON.stringify(r).slice(0, 400)).toBe("(20000, True, 'héllo wörld ✓')");
  });

  it('ends the run at os._exit like SystemExit, and the next call runs', async () => {
    const r = await server.run("import os\nprint('before')\nos._exit(3)\nprint('after')");
    expect(r.stdout).toBe('before\n');
    expect(r.error?.message).toBe('SystemExit: SystemExit(3) (line 3)');
    expect((await server.run("import os\nos._exit(0)")).status).toBe('success');
    expect((await server.run('print(1)')).stdout).toBe('1\n');
  });
});

describe('hashlib', () => {
  it('gives the RFC 6070 PBKDF2-HMAC-SHA1 vectors', async () => {
    const r = await server.run(
      "import hashlib\nfor c in (1, 2, 4096):\n    print(hashlib.pbkdf2_hmac('sha1', b'password', b'salt', c, 20).hex())\nprint(hashlib.pbkdf2_hmac('sha1', b'passwordPASSWORDpassword', b'saltSALTsaltSALTsaltSALTsaltSALTsalt', 4096, 25).hex())",
    );
    expect(r.stdout).toBe(
      [
        '0c60c80f961f0e71f3a9b524af6012062fe037a6',
        'ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957',
        '4b007901b765489abead49d926f721d065a429c1',
        '3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038',
        '',
      ].join('\n'),
    );
  });

  it('gives the RFC 7914 scrypt vector', async () => {
    const r = await server.run("import hashlib\nprint(hashlib.scrypt(b'', salt=b'', n=16, r=1, p=1, dklen=64).hex())");
    expect(r.stdout).toBe(
      '77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906\n',
    );
  });
});

describe('errors that say what to do next', () => {
  const next = async (code: string) => (await server.run(code)).text.split('\n')[0];

  it('points a missing package to install_packages', async () => {
    expect(await next('import requests')).toMatch(/Next: install it with install_packages\(\["requests"\]\)/);
    const r = await server.run('import requests');
    expect(r.error?.details?.hint).toMatch(/install_packages/);
  });

  it('says when the module is a standard-library module WebAssembly lacks', async () => {
    expect(await next('import resource')).toMatch(/standard-library module that WebAssembly lacks/);
  });

  it('says threads, processes, signals and browsers are not available, and what instead', async () => {
    expect(await next('import threading\nthreading.Thread(target=print).start()')).toMatch(/Next: threads are not available/);
    expect(await next('import multiprocessing\nmultiprocessing.Pool(2)')).toMatch(/Next: processes are not available/);
    expect(await next('import subprocess\nsubprocess.run(["ls"])')).toMatch(/Next: processes are not available/);
    expect(await next('import signal\nsignal.alarm(1)')).toMatch(/Next: signals are not available/);
    expect(await next("import webbrowser\nwebbrowser.open('https://example.com')")).toMatch(/no browser in this sandbox/);
  });

  it('trims a refusal to the user frames and the library frames below them', async () => {
    const r = await server.run("import socket\nsocket.create_connection(('example.com', 80))");
    const tb = String(r.error?.details?.traceback);
    expect(tb).toMatch(/File "<code>", line 2/);
    expect(tb).not.toMatch(/harness|<runner>|importlib/);
    expect(r.text.split('\n')[0]).toMatch(/ALLOW_NETWORK/);
  });

  it('keeps the import machinery out of a failed import_module', async () => {
    const r = await server.run("import importlib\nimportlib.import_module('no_such_module_xyz')");
    expect(r.error?.details?.traceback).not.toMatch(/<frozen|importlib\/__init__/);
  });
});

describe('with ALLOW_NETWORK=true', () => {
  let online: TestServer;
  beforeAll(async () => {
    online = await startServer({ ALLOW_NETWORK: 'true', MAX_CONCURRENT_EXECUTIONS: '1' });
  });
  afterAll(async () => {
    await online?.close();
  });

  it('names pyodide.http.pyfetch when a socket is refused', async () => {
    const r = await online.run("import socket\nsocket.create_connection(('example.com', 80))");
    expect(r.error?.message).toMatch(/pyodide\.http\.pyfetch/);
    expect(r.text.split('\n')[0]).toMatch(/Next: for HTTP use `await pyodide\.http\.pyfetch\(url\)`/);
  });
});
