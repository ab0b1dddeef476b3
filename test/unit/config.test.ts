import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_VARIABLES,
  ConfigError,
  DEFAULT_PACKAGE_INDEX_URL,
  defaultCacheDir,
  describeConfig,
  loadConfig,
} from '../../src/config.js';

/** loadConfig with a HOME of our own, so defaults never depend on the machine running the tests. */
const load = (env: Record<string, string> = {}) => loadConfig({ HOME: '/home/tester', ...env });

/** The ConfigError that loadConfig throws for env, or a failure if it does not throw one. */
function configError(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  it('gives every setting its documented default when nothing is set', () => {
    const config = load();
    expect(config).toEqual({
      maxMemoryMb: 512,
      executionTimeoutMs: 30_000,
      maxConcurrentExecutions: 5,
      maxQueueSize: 100,
      maxOutputBytes: 1_048_576,
      outputBudgetBytes: 32_768,
      maxCodeBytes: 1_048_576,
      maxInputBytes: 1_048_576,
      maxInputFilesBytes: 10 * 1024 * 1024,
      maxOutputFiles: 10,
      maxOutputFilesBytes: 8 * 1024 * 1024,
      workerMaxExecutions: 0,
      workerIdleTimeoutMs: 60_000,
      maxSessions: 4,
      sessionIdleTimeoutMs: 600_000,
      logLevel: 'info',
      logFormat: 'json',
      preinstalledPackages: [],
      warmImports: [],
      packageCacheDir: defaultCacheDir({ HOME: '/home/tester' }),
      pyodideDistDir: undefined,
      pyodideDistUrl: undefined,
      packageIndexUrl: 'https://pypi.org/simple/',
      allowNetwork: false,
      networkAllowedHosts: [],
      mountHostDir: undefined,
      mountMode: 'ro',
      transport: 'stdio',
      httpHost: '127.0.0.1',
      httpPort: 3000,
      httpAllowedHosts: [],
      httpMaxBodyBytes: 16 * 1024 * 1024,
      authToken: undefined,
    });
  });

  it('uses the pypi simple index as the default package index', () => {
    expect(load().packageIndexUrl).toBe(DEFAULT_PACKAGE_INDEX_URL);
  });

  it('treats empty strings as unset', () => {
    const env = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, '']));
    expect(load(env)).toEqual(load());
  });

  it('treats whitespace-only strings as unset', () => {
    const env = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, '  \t ']));
    expect(load(env)).toEqual(load());
  });

  it('ignores environment variables it does not know', () => {
    expect(load({ MAX_MEMORY: 'lots', PATH: '/usr/bin' })).toEqual(load());
  });
});

describe('loadConfig integers', () => {
  it.each([
    ['MAX_MEMORY_MB', '1024', 'maxMemoryMb', 1024],
    ['EXECUTION_TIMEOUT_MS', '5000', 'executionTimeoutMs', 5000],
    ['MAX_CONCURRENT_EXECUTIONS', '2', 'maxConcurrentExecutions', 2],
    ['MAX_QUEUE_SIZE', '0', 'maxQueueSize', 0],
    ['OUTPUT_BUDGET_BYTES', '4096', 'outputBudgetBytes', 4096],
    ['MAX_OUTPUT_BYTES', '2048', 'maxOutputBytes', 2048],
    ['MAX_CODE_BYTES', '64', 'maxCodeBytes', 64],
    ['MAX_INPUT_BYTES', '0', 'maxInputBytes', 0],
    ['WORKER_MAX_EXECUTIONS', '1', 'workerMaxExecutions', 1],
    ['WORKER_IDLE_TIMEOUT_MS', '5000', 'workerIdleTimeoutMs', 5000],
  ] as const)('reads %s=%s as %s', (variable, value, key, expected) => {
    expect(load({ [variable]: value })[key]).toBe(expected);
  });

  it('trims whitespace around an integer', () => {
    expect(load({ MAX_MEMORY_MB: ' 256\n' }).maxMemoryMb).toBe(256);
  });

  it('accepts the bounds of a range', () => {
    expect(load({ MAX_MEMORY_MB: '16' }).maxMemoryMb).toBe(16);
    expect(load({ MAX_MEMORY_MB: '3584' }).maxMemoryMb).toBe(3584);
  });

  it.each(['15', '3585', '-1', '1.5', '1e3', '0x10', 'abc', '512MB'])('rejects MAX_MEMORY_MB=%s', (value) => {
    expect(configError({ MAX_MEMORY_MB: value }).problems).toEqual([
      `MAX_MEMORY_MB must be an integer from 16 to 3584 (got '${value}')`,
    ]);
  });
});

describe('loadConfig enums', () => {
  it('reads LOG_LEVEL case-insensitively and trimmed', () => {
    expect(load({ LOG_LEVEL: ' DEBUG ' }).logLevel).toBe('debug');
  });

  it('reads LOG_FORMAT case-insensitively', () => {
    expect(load({ LOG_FORMAT: 'Text' }).logFormat).toBe('text');
  });

  it('reads MOUNT_MODE case-insensitively', () => {
    expect(load({ MOUNT_MODE: 'RW' }).mountMode).toBe('rw');
  });

  it.each(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])('accepts pino\'s level LOG_LEVEL=%s', (level) => {
    expect(load({ LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it('rejects a value outside the enum, naming the allowed values', () => {
    expect(configError({ LOG_LEVEL: 'warning' }).problems).toEqual([
      "LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got 'warning')",
    ]);
  });
});

describe('loadConfig booleans', () => {
  it.each(['1', 'true', 'TRUE', 'yes', 'On', ' true '])('reads ALLOW_NETWORK=%j as true', (value) => {
    expect(load({ ALLOW_NETWORK: value }).allowNetwork).toBe(true);
  });

  it.each(['0', 'false', 'No', 'off'])('reads ALLOW_NETWORK=%j as false', (value) => {
    expect(load({ ALLOW_NETWORK: value }).allowNetwork).toBe(false);
  });

  it('rejects a word that is neither true nor false, listing the accepted words', () => {
    expect(configError({ ALLOW_NETWORK: 'maybe' }).problems).toEqual([
      "ALLOW_NETWORK must be one of 1, true, yes, on, 0, false, no, off (got 'maybe')",
    ]);
  });
});

describe('loadConfig lists', () => {
  it('takes WARM_IMPORTS as module names and refuses anything else', () => {
    expect(load({ WARM_IMPORTS: 'xml.sax  ftplib' }).warmImports).toEqual(['xml.sax', 'ftplib']);
    expect(() => load({ WARM_IMPORTS: 'os; import x' })).toThrow(/WARM_IMPORTS.*module names/);
  });

  it('splits PREINSTALLED_PACKAGES on spaces', () => {
    expect(load({ PREINSTALLED_PACKAGES: 'numpy  pandas\tsympy' }).preinstalledPackages).toEqual([
      'numpy',
      'pandas',
      'sympy',
    ]);
  });

  it('splits PREINSTALLED_PACKAGES on commas as well', () => {
    expect(load({ PREINSTALLED_PACKAGES: 'numpy,pandas, sympy,' }).preinstalledPackages).toEqual([
      'numpy',
      'pandas',
      'sympy',
    ]);
  });

  it('splits NETWORK_ALLOWED_HOSTS on spaces and commas and lower-cases the hosts', () => {
    expect(load({ NETWORK_ALLOWED_HOSTS: ' Example.COM, api.github.com  files.pythonhosted.org' }).networkAllowedHosts).toEqual([
      'example.com',
      'api.github.com',
      'files.pythonhosted.org',
    ]);
  });

  it('reads a list made only of separators as empty', () => {
    expect(load({ PREINSTALLED_PACKAGES: ' , ,' }).preinstalledPackages).toEqual([]);
  });
});

describe('loadConfig paths', () => {
  it('reads an absolute PACKAGE_CACHE_DIR, normalised', () => {
    expect(load({ PACKAGE_CACHE_DIR: '/var/cache/../cache/pyexec/' }).packageCacheDir).toBe('/var/cache/pyexec');
  });

  it('reads an absolute PYODIDE_DIST_DIR', () => {
    expect(load({ PYODIDE_DIST_DIR: ' /opt/pyodide ' }).pyodideDistDir).toBe('/opt/pyodide');
  });

  it('reads an absolute MOUNT_HOST_DIR', () => {
    expect(load({ MOUNT_HOST_DIR: '/srv/data' }).mountHostDir).toBe('/srv/data');
  });

  it.each(['PACKAGE_CACHE_DIR', 'PYODIDE_DIST_DIR', 'MOUNT_HOST_DIR'])('rejects a relative %s', (variable) => {
    expect(configError({ [variable]: 'data/dir' }).problems).toEqual([
      `${variable} must be an absolute path (got 'data/dir')`,
    ]);
  });
});

describe('loadConfig URLs', () => {
  it('reads an http(s) PACKAGE_INDEX_URL', () => {
    expect(load({ PACKAGE_INDEX_URL: 'https://mirror.example/simple/' }).packageIndexUrl).toBe(
      'https://mirror.example/simple/',
    );
  });

  it('accepts a plain http URL', () => {
    expect(load({ PACKAGE_INDEX_URL: 'http://localhost:8080/simple' }).packageIndexUrl).toBe(
      'http://localhost:8080/simple',
    );
  });

  it.each(['ftp://mirror.example/simple/', 'mirror.example/simple', 'https://'])(
    'rejects PACKAGE_INDEX_URL=%s',
    (value) => {
      expect(configError({ PACKAGE_INDEX_URL: value }).problems).toEqual([
        `PACKAGE_INDEX_URL must be an http(s) URL (got '${value}')`,
      ]);
    },
  );
});

describe('ConfigError', () => {
  it('names every bad variable, its rule and the value received in one message', () => {
    const error = configError({
      MAX_MEMORY_MB: '99999',
      EXECUTION_TIMEOUT_MS: 'soon',
      LOG_LEVEL: 'loud',
      ALLOW_NETWORK: 'maybe',
      MOUNT_HOST_DIR: 'relative/dir',
      PACKAGE_INDEX_URL: 'ftp://x',
      MOUNT_MODE: 'rwx',
    });
    expect(error.message).toMatchInlineSnapshot(`
      "Invalid configuration:
        - MAX_MEMORY_MB must be an integer from 16 to 3584 (got '99999')
        - EXECUTION_TIMEOUT_MS must be an integer from 100 to 86400000 (got 'soon')
        - LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got 'loud')
        - PACKAGE_INDEX_URL must be an http(s) URL (got 'ftp://x')
        - ALLOW_NETWORK must be one of 1, true, yes, on, 0, false, no, off (got 'maybe')
        - MOUNT_HOST_DIR must be an absolute path (got 'relative/dir')
        - MOUNT_MODE must be one of ro, rw (got 'rwx')"
    `);
  });

  it('lists the problems in the order of CONFIG_VARIABLES', () => {
    const error = configError({ MOUNT_MODE: 'x', MAX_MEMORY_MB: 'x', LOG_FORMAT: 'x' });
    expect(error.problems.map((p) => p.split(' ')[0])).toEqual(['MAX_MEMORY_MB', 'LOG_FORMAT', 'MOUNT_MODE']);
  });

  it('is an Error named ConfigError', () => {
    const error = configError({ MAX_QUEUE_SIZE: '-5' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
  });

  it('quotes the value as received, before trimming', () => {
    expect(configError({ MAX_QUEUE_SIZE: ' lots ' }).problems).toEqual([
      "MAX_QUEUE_SIZE must be an integer from 0 to 100000 (got ' lots ')",
    ]);
  });
});

describe('loadConfig result', () => {
  it('is frozen', () => {
    const config = load();
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { maxMemoryMb: number }).maxMemoryMb = 1;
    }).toThrow(TypeError);
  });

  it('has frozen lists', () => {
    const config = load({ PREINSTALLED_PACKAGES: 'numpy', NETWORK_ALLOWED_HOSTS: 'example.com' });
    expect(Object.isFrozen(config.preinstalledPackages)).toBe(true);
    expect(Object.isFrozen(config.networkAllowedHosts)).toBe(true);
  });

  it('reads process.env when given no argument', () => {
    const saved = process.env.MAX_QUEUE_SIZE;
    process.env.MAX_QUEUE_SIZE = '7';
    try {
      expect(loadConfig().maxQueueSize).toBe(7);
    } finally {
      if (saved === undefined) delete process.env.MAX_QUEUE_SIZE;
      else process.env.MAX_QUEUE_SIZE = saved;
    }
  });
});

describe('describeConfig', () => {
  it('shows every setting as a plain copy', () => {
    const config = load({ MAX_MEMORY_MB: '256' });
    const described = describeConfig(config);
    expect(described).toEqual({ ...config, authToken: '(none)' });
    expect(described).not.toBe(config);
    expect(Object.isFrozen(described)).toBe(false);
  });

  it('turns sessions on for stdio and off for HTTP unless MAX_SESSIONS says', () => {
    expect(load().maxSessions).toBe(4);
    expect(load({ MCP_TRANSPORT: 'http' }).maxSessions).toBe(0);
    expect(load({ MCP_TRANSPORT: 'http', MAX_SESSIONS: '2' }).maxSessions).toBe(2);
  });

  it('never shows the bearer token, only whether there is one', () => {
    const described = describeConfig(load({ MCP_AUTH_TOKEN: 'correct-horse-battery-staple' }));
    expect(described.authToken).toBe('(set)');
    expect(JSON.stringify(described)).not.toContain('correct-horse');
  });

  it('takes --http, --port and --host from the command line, over the environment', () => {
    const config = loadConfig({ HOME: '/home/tester', HTTP_PORT: '1234' }, ['--http', '--port', '8080', '--host=0.0.0.0']);
    expect([config.transport, config.httpPort, config.httpHost]).toEqual(['http', 8080, '0.0.0.0']);
  });

  it('names an unknown command-line option and one missing its value', () => {
    expect(() => loadConfig({ HOME: '/home/tester' }, ['--verbose', '--port'])).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: Invalid configuration:
        - --verbose is not an option (options: --http, --stdio, --port, --host, --help, --version)
        - --port needs a value]
    `);
  });

  it('refuses --port and --host without HTTP, instead of serving stdio and ignoring them', () => {
    expect(() => loadConfig({ HOME: '/home/tester' }, ['--port', '3000', '--host=0.0.0.0'])).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: Invalid configuration:
        - --port and --host only apply to HTTP: add --http (or set MCP_TRANSPORT=http)]
    `);
    expect(loadConfig({ HOME: '/home/tester', MCP_TRANSPORT: 'http' }, ['--port', '3000']).httpPort).toBe(3000);
  });

  it('never shows a bad bearer token in its message, only its length', () => {
    const error = configError({ MCP_AUTH_TOKEN: 'short-secret' });
    expect(error.problems).toEqual(['MCP_AUTH_TOKEN must be at least 16 characters (got 12 characters, not shown)']);
    expect(error.message).not.toContain('short-secret');
  });
});

describe('defaultCacheDir', () => {
  it('uses ~/.cache on Linux without XDG_CACHE_HOME', () => {
    expect(defaultCacheDir({ HOME: '/home/ada' }, 'linux')).toBe('/home/ada/.cache/mcp-python-executor');
  });

  it('uses XDG_CACHE_HOME on Linux when it is set', () => {
    expect(defaultCacheDir({ HOME: '/home/ada', XDG_CACHE_HOME: '/fast/cache' }, 'linux')).toBe(
      '/fast/cache/mcp-python-executor',
    );
  });

  it('ignores an empty XDG_CACHE_HOME', () => {
    expect(defaultCacheDir({ HOME: '/home/ada', XDG_CACHE_HOME: '' }, 'linux')).toBe(
      '/home/ada/.cache/mcp-python-executor',
    );
  });

  it('ignores a relative XDG_CACHE_HOME, as the XDG base directory spec requires', () => {
    expect(defaultCacheDir({ HOME: '/home/ada', XDG_CACHE_HOME: 'cache' }, 'linux')).toBe(
      '/home/ada/.cache/mcp-python-executor',
    );
  });

  it('uses ~/Library/Caches on macOS, whatever XDG_CACHE_HOME says', () => {
    expect(defaultCacheDir({ HOME: '/Users/ada', XDG_CACHE_HOME: '/fast/cache' }, 'darwin')).toBe(
      '/Users/ada/Library/Caches/mcp-python-executor',
    );
  });

  it('uses LOCALAPPDATA on Windows', () => {
    // path.join is the host's; compare with it so the test holds on any host.
    expect(
      defaultCacheDir({ USERPROFILE: 'C:\\Users\\ada', LOCALAPPDATA: 'D:\\Local' }, 'win32'),
    ).toBe(path.join('D:\\Local', 'mcp-python-executor', 'Cache'));
  });

  it('falls back to USERPROFILE\\AppData\\Local on Windows without LOCALAPPDATA', () => {
    expect(defaultCacheDir({ USERPROFILE: 'C:\\Users\\ada' }, 'win32')).toBe(
      path.join('C:\\Users\\ada', 'AppData', 'Local', 'mcp-python-executor', 'Cache'),
    );
  });

  it("falls back to the OS's home directory when HOME and USERPROFILE are unset", () => {
    expect(defaultCacheDir({}, 'linux')).toBe(path.join(os.homedir(), '.cache', 'mcp-python-executor'));
  });

  it('is what loadConfig uses when PACKAGE_CACHE_DIR is unset', () => {
    const env = { HOME: '/home/ada', XDG_CACHE_HOME: '/xdg' };
    expect(loadConfig(env).packageCacheDir).toBe(defaultCacheDir(env));
  });
});
