import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ MAX_CODE_BYTES: '2048', MAX_INPUT_BYTES: '4096' });
});
afterAll(async () => {
  await server?.close();
});

describe('output', () => {
  it('captures stdout and stderr separately, in order, including text without a trailing newline', async () => {
    const r = await server.run(
      "import sys\nprint('one')\nprint('err1', file=sys.stderr)\nprint('two', end='')\nsys.stderr.write('err2')\nprint(' three')",
    );
    expect(r.status).toBe('success');
    expect(r.stdout).toBe('one\ntwo three\n');
    expect(r.stderr).toBe('err1\nerr2');
    expect(r.stdoutBytes).toBe(14);
  });

  it('keeps a partial line of one call out of the next call', async () => {
    await server.run("print('no newline at end', end='')");
    const r = await server.run("print('next')");
    expect(r.stdout).toBe('next\n');
  });

  it('shows output to the model in labelled sections', async () => {
    const r = await server.run("import sys\nprint('hello')\nprint('careful', file=sys.stderr)\n6 * 7");
    expect(r.text).toMatchInlineSnapshot(`
      "[stdout]
      hello

      [stderr]
      careful

      [result]
      42"
    `);
  });
});

describe('stdin from inputData', () => {
  it('feeds input() line by line, sys.stdin.read() the rest, and EOFError past the end', async () => {
    const r = await server.run(
      [
        "name = input('name? ')",
        'second = input()',
        'import sys',
        'rest = sys.stdin.read()',
        'try:',
        '    input()',
        'except EOFError:',
        "    print('EOF reached')",
        'print(repr(name), repr(second), repr(rest))',
      ].join('\n'),
      { inputData: ['ada', 'bob', 'c1', 'c2'] },
    );
    expect(r.status).toBe('success');
    expect(r.stdout).toBe("name? EOF reached\n'ada' 'bob' 'c1\\nc2\\n'\n");
  });

  it('raises EOFError at once when there is no input, instead of waiting', async () => {
    const r = await server.run('input()');
    expect(r.error?.code).toBe('PYTHON_ERROR');
    expect(r.error?.details?.type).toBe('EOFError');
  });

  it('gives each call its own input', async () => {
    const [a, b] = await Promise.all([
      server.run('import time\ntime.sleep(0.2)\ninput()', { inputData: ['first'] }),
      server.run('input()', { inputData: ['second'] }),
    ]);
    expect(a.result).toBe("'first'");
    expect(b.result).toBe("'second'");
  });
});

describe('the value of the last expression', () => {
  it('is returned as its repr', async () => {
    expect((await server.run("x = {'a': [1, 2.0, 'three']}\nx")).result).toBe("{'a': [1, 2.0, 'three']}");
    expect((await server.run("'text'")).result).toBe("'text'");
    expect((await server.run('10**30')).result).toBe('1000000000000000000000000000000');
  });

  it('is null when the code ends with a statement or the value is None', async () => {
    expect((await server.run('x = 1')).result).toBeNull();
    expect((await server.run('None')).result).toBeNull();
    expect((await server.run("print('hi')")).result).toBeNull();
  });

  it('supports top-level await', async () => {
    const r = await server.run('import asyncio\nasync def f():\n    await asyncio.sleep(0.01)\n    return 7\nawait f() * 6');
    expect(r.status).toBe('success');
    expect(r.result).toBe('42');
  });
});

describe('Python errors', () => {
  it('give PYTHON_ERROR with the type, the message, the line and a traceback of the user code only', async () => {
    const r = await server.run('def inner():\n    return 1 / 0\n\nprint("before")\ninner()');
    expect(r.isError).toBe(true);
    expect(r.status).toBe('error');
    expect(r.stdout).toBe('before\n');
    expect(r.error?.code).toBe('PYTHON_ERROR');
    expect(r.error?.details).toMatchObject({ type: 'ZeroDivisionError', message: 'division by zero', line: 2 });
    expect(r.text).toMatchInlineSnapshot(`
      "PYTHON_ERROR: ZeroDivisionError: division by zero (line 2). Next: fix the Python code using the traceback.

      Traceback (most recent call last):
        File "<code>", line 5, in <module>
          inner()
          ~~~~~^^
        File "<code>", line 2, in inner
          return 1 / 0
                 ~~^~~
      ZeroDivisionError: division by zero

      [stdout]
      before"
    `);
    const tb = String(r.error?.details?.traceback);
    expect(tb).not.toMatch(/_pyodide|<runner>|<harness>|pyodide\.asm/);
  });

  it('name the line of a syntax error', async () => {
    const r = await server.run('x = 1\ny = (2 +\nprint(x)');
    expect(r.error?.code).toBe('PYTHON_ERROR');
    expect(r.error?.details?.type).toBe('SyntaxError');
    expect(r.error?.details?.line).toBe(2);
    expect(r.text).toContain('File "<code>", line 2');
  });

  it('keep tracebacks from the standard library below the user code', async () => {
    const r = await server.run("import json\njson.loads('{bad')");
    expect(r.error?.details?.type).toBe('JSONDecodeError');
    const tb = String(r.error?.details?.traceback);
    expect(tb.indexOf('<code>')).toBeLessThan(tb.indexOf('json/'));
  });

  it('treat sys.exit(0) as success and another exit code as a failure', async () => {
    const ok = await server.run("print('done')\nimport sys\nsys.exit(0)");
    expect(ok.status).toBe('success');
    expect(ok.stdout).toBe('done\n');
    const bad = await server.run('import sys\nsys.exit(3)');
    expect(bad.error?.code).toBe('PYTHON_ERROR');
    expect(bad.error?.message).toContain('SystemExit(3)');
  });
});

describe('each execution starts clean', () => {
  // Two workers serve this server; repeating each probe reaches both of them.
  const twice = async (setup: string, probe: string) => {
    for (let i = 0; i < 3; i += 1) await server.run(setup);
    const results = [];
    for (let i = 0; i < 4; i += 1) results.push(await server.run(probe));
    return results;
  };

  it('does not keep variables, functions or imports of the namespace', async () => {
    const results = await twice('secret = 41\ndef helper(): pass\nimport fractions as fr', "[n for n in ('secret', 'helper', 'fr') if n in globals()]");
    for (const r of results) expect(r.result).toBe('[]');
  });

  it('restores builtins', async () => {
    const results = await twice("import builtins\nbuiltins.print = lambda *a, **k: None\nbuiltins.len = lambda x: 0\nbuiltins.extra = 1", "print('visible')\n(len('abc'), hasattr(__builtins__, 'extra'))");
    for (const r of results) {
      expect(r.stdout).toBe('visible\n');
      expect(r.result).toBe('(3, False)');
    }
  });

  it('restores sys: path, stdout, recursion limit', async () => {
    const results = await twice(
      "import sys, io\nsys.path.insert(0, '/evil')\nsys.setrecursionlimit(50)\nsys.stdout = io.StringIO()",
      "import sys\nprint('out')\n('/evil' in sys.path, sys.getrecursionlimit() >= 1000)",
    );
    for (const r of results) {
      expect(r.stdout).toBe('out\n');
      expect(r.result).toBe('(False, True)');
    }
  });

  it('restores os.environ and the working directory, and removes files written there', async () => {
    const results = await twice(
      "import os\nos.environ['LEAK'] = '1'\nopen('note.txt', 'w').write('x')\nos.makedirs('sub/dir')\nopen('/tmp/t.txt', 'w').write('y')\nos.chdir('/tmp')",
      "import os\n(os.environ.get('LEAK'), os.listdir('.'), os.path.exists('/tmp/t.txt'), os.getcwd() == os.path.realpath('.'))",
    );
    for (const r of results) expect(r.result).toBe('(None, [], False, True)');
  });

  it('does not let a random seed carry over', async () => {
    await server.run('import random\nrandom.seed(1)');
    const a = await server.run('import random\nrandom.random()');
    const b = await server.run('import random\nrandom.random()');
    expect(a.result).not.toBe('0.13436424411240122');
    expect(a.result).not.toBe(b.result);
  });
});

describe('concurrent executions', () => {
  it('never mix their output or input', async () => {
    const calls = Array.from({ length: 6 }, (_, i) =>
      server.run(
        `import time\nline = input()\nfor n in range(5):\n    print('${i}', line, n)\n    time.sleep(0.01)\n'${i}'`,
        { inputData: [`input-${i}`] },
      ),
    );
    const results = await Promise.all(calls);
    results.forEach((r, i) => {
      expect(r.result).toBe(`'${i}'`);
      expect(r.stdout).toBe(Array.from({ length: 5 }, (_, n) => `${i} input-${i} ${n}\n`).join(''));
    });
  });
});

describe('invalid arguments', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['missing code', {}, /code: expected a string of Python code/],
    ['code of the wrong type', { code: 42 }, /code: expected a string of Python code/],
    ['empty code', { code: '   ' }, /code: must not be empty/],
    ['oversized code', { code: 'x = 1\n'.repeat(500) }, /code: is 3000 bytes; the limit is 2048 \(MAX_CODE_BYTES\)/],
    ['inputData that is not a list of strings', { code: 'pass', inputData: ['a', 3] }, /inputData\[1\]: expected a string/],
    ['oversized inputData', { code: 'pass', inputData: ['x'.repeat(5000)] }, /inputData: is larger than 4096 bytes/],
    ['an unknown argument', { code: 'pass', input_data: ['a'] }, /unknown argument 'input_data' \(accepted: code, inputData, files, sessionId, timeoutMs, fullOutput\)/],
    ['a timeout that is not a positive integer', { code: 'pass', timeoutMs: -5 }, /timeoutMs: must be greater than 0/],
  ];
  it.each(cases)('%s give INVALID_INPUT saying what is wrong', async (_name, args, message) => {
    const result = await server.call('execute_python', args);
    expect(result.isError).toBe(true);
    const structured = result.structuredContent as { status: string; error: { code: string; message: string } };
    expect(structured.status).toBe('error');
    expect(structured.error.code).toBe('INVALID_INPUT');
    expect(structured.error.message).toMatch(message);
  });

  it('an unknown tool is a protocol error', async () => {
    await expect(server.call('no_such_tool', {})).rejects.toThrow(/^MCP error -32602: Unknown tool 'no_such_tool'; available: execute_python/);
  });
});

describe('an unexpected fault', () => {
  it('gives INTERNAL_ERROR for that call only and the server keeps serving', async () => {
    // faulthandler's self-test calls abort(), which traps the WebAssembly instance: a fault no
    // Python code can catch.
    const r = await server.run('import faulthandler\nfaulthandler._sigabrt()');
    expect(r.error?.code).toBe('INTERNAL_ERROR');
    expect(r.error?.message).toMatch(/The Python interpreter failed: unreachable/);
    const after = await server.run('1 + 1');
    expect(after.result).toBe('2');
    await expect.poll(() => server.stderr()).toMatch(/"reason":"the interpreter failed: unreachable"\},"message":"worker replaced"/);
  });
});

describe('the connection', () => {
  it('carried nothing but protocol messages', () => {
    expect(server.connectionErrors).toEqual([]);
  });
});
