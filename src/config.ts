import path from 'node:path';
import { z } from 'zod';
import { CACHE_FALLBACK_VARIABLE, defaultCacheDir, type CacheFallback } from './cacheDir.js';

export { defaultCacheDir };

/**
 * Every setting, read from the environment in one place. Each entry names its variable, its rule
 * (as the user reads it in an error message) and its default; README's settings table is checked
 * against this list by a test.
 */

const MIB = 1024 * 1024;

type IntRule = { min: number; max: number; default: number };

function intVar(rule: IntRule) {
  return optionalIntVar(rule).default(rule.default);
}

function optionalIntVar(rule: Omit<IntRule, 'default'>) {
  const text = `must be an integer from ${rule.min} to ${rule.max}`;
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { error: text })
    .transform(Number)
    .pipe(z.number().int().min(rule.min, { error: text }).max(rule.max, { error: text }));
}

function enumVar<const T extends readonly [string, ...string[]]>(values: T, def: T[number]) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` }))
    .default(def);
}

function boolVar(def: boolean) {
  const truthy = ['1', 'true', 'yes', 'on'];
  const falsy = ['0', 'false', 'no', 'off'];
  return z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => truthy.includes(v) || falsy.includes(v), {
      error: `must be one of ${[...truthy, ...falsy].join(', ')}`,
    })
    .transform((v) => truthy.includes(v))
    .default(def);
}

function absolutePathVar() {
  return z
    .string()
    .trim()
    .refine((v) => path.isAbsolute(v), { error: 'must be an absolute path' })
    .transform((v) => path.resolve(v))
    .optional();
}

function listVar() {
  return z
    .string()
    .default('')
    .transform((v) => v.split(/[\s,]+/).filter(Boolean));
}

function urlVar() {
  return z
    .string()
    .trim()
    .refine((v) => /^https?:\/\//i.test(v) && URL.canParse(v), { error: 'must be an http(s) URL' });
}

/** pino's levels, as people try them first (`warn` most of all). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Settings whose value is never shown back, not even in a validation message. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['MCP_AUTH_TOKEN']);

export const DEFAULT_PACKAGE_INDEX_URL = 'https://pypi.org/simple/';

export const ConfigSchema = z.object({
  MAX_MEMORY_MB: intVar({ min: 16, max: 3584, default: 512 }),
  EXECUTION_TIMEOUT_MS: intVar({ min: 100, max: 86_400_000, default: 30_000 }),
  MAX_CONCURRENT_EXECUTIONS: intVar({ min: 1, max: 64, default: 5 }),
  MAX_QUEUE_SIZE: intVar({ min: 0, max: 100_000, default: 100 }),
  MAX_OUTPUT_BYTES: intVar({ min: 1024, max: 64 * MIB, default: MIB }),
  OUTPUT_BUDGET_BYTES: intVar({ min: 1024, max: 64 * MIB, default: 32 * 1024 }),
  MAX_CODE_BYTES: intVar({ min: 64, max: 16 * MIB, default: MIB }),
  MAX_INPUT_BYTES: intVar({ min: 0, max: 64 * MIB, default: MIB }),
  MAX_INPUT_FILES_BYTES: intVar({ min: 0, max: 256 * MIB, default: 10 * MIB }),
  MAX_OUTPUT_FILES: intVar({ min: 0, max: 1000, default: 10 }),
  MAX_OUTPUT_FILES_BYTES: intVar({ min: 0, max: 256 * MIB, default: 8 * MIB }),
  WORKER_MAX_EXECUTIONS: intVar({ min: 0, max: 1_000_000_000, default: 0 }),
  WORKER_IDLE_TIMEOUT_MS: intVar({ min: 100, max: 86_400_000, default: 60_000 }),
  MAX_SESSIONS: optionalIntVar({ min: 0, max: 256 }).optional(),
  SESSION_IDLE_TIMEOUT_MS: intVar({ min: 1000, max: 86_400_000, default: 600_000 }),
  LOG_LEVEL: enumVar(LOG_LEVELS, 'info'),
  LOG_FORMAT: enumVar(['json', 'text'] as const, 'json'),
  PREINSTALLED_PACKAGES: listVar(),
  WARM_IMPORTS: listVar().pipe(
    z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, { error: 'must be module names (like xml.sax or numpy), separated by spaces' })),
  ),
  PACKAGE_CACHE_DIR: absolutePathVar(),
  PYODIDE_DIST_DIR: absolutePathVar(),
  PYODIDE_DIST_URL: urlVar().optional(),
  PACKAGE_INDEX_URL: urlVar().default(DEFAULT_PACKAGE_INDEX_URL),
  ALLOW_NETWORK: boolVar(false),
  NETWORK_ALLOWED_HOSTS: listVar(),
  MOUNT_HOST_DIR: absolutePathVar(),
  MOUNT_MODE: enumVar(['ro', 'rw'] as const, 'ro'),
  MCP_TRANSPORT: enumVar(['stdio', 'http'] as const, 'stdio'),
  HTTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  HTTP_PORT: intVar({ min: 0, max: 65_535, default: 3000 }),
  HTTP_ALLOWED_HOSTS: listVar(),
  HTTP_MAX_BODY_BYTES: intVar({ min: 1024, max: 512 * MIB, default: 16 * MIB }),
  MCP_AUTH_TOKEN: z.string().trim().min(16, { error: 'must be at least 16 characters' }).optional(),
});

export type ConfigInput = z.input<typeof ConfigSchema>;

/** The resolved settings every module receives; frozen so nothing changes them after start-up. */
export type Config = Readonly<{
  maxMemoryMb: number;
  executionTimeoutMs: number;
  maxConcurrentExecutions: number;
  maxQueueSize: number;
  maxOutputBytes: number;
  /** stdout, stderr and the result together in one answer; longer ones show head and tail. @default 32768 */
  outputBudgetBytes: number;
  maxCodeBytes: number;
  maxInputBytes: number;
  maxInputFilesBytes: number;
  maxOutputFiles: number;
  maxOutputFilesBytes: number;
  workerMaxExecutions: number;
  /** A worker beyond the one kept warm that has run nothing for this long is stopped. */
  workerIdleTimeoutMs: number;
  maxSessions: number;
  sessionIdleTimeoutMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
  logFormat: 'json' | 'text';
  preinstalledPackages: readonly string[];
  /** Modules imported into the start-up snapshot besides the built-in list (runtime/warmImports.ts). */
  warmImports: readonly string[];
  packageCacheDir: string;
  /** Set when the launcher could not use the cache directory asked for and chose a temporary one. */
  cacheFallback: CacheFallback | undefined;
  pyodideDistDir: string | undefined;
  pyodideDistUrl: string | undefined;
  packageIndexUrl: string;
  allowNetwork: boolean;
  networkAllowedHosts: readonly string[];
  mountHostDir: string | undefined;
  mountMode: 'ro' | 'rw';
  transport: 'stdio' | 'http';
  httpHost: string;
  httpPort: number;
  httpAllowedHosts: readonly string[];
  httpMaxBodyBytes: number;
  authToken: string | undefined;
}>;

/** The variables ConfigSchema reads, in declaration order (README's table follows it). */
export const CONFIG_VARIABLES = Object.keys(ConfigSchema.shape) as (keyof ConfigInput)[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Command-line options, each the same as a setting: `--http`, `--port N`, `--host H`. `--help` and
 * `--version` are answered by the bin entry before any of this loads (usage.ts).
 */
const FLAGS: Record<string, { variable: keyof ConfigInput; value?: string; httpOnly?: boolean }> = {
  '--http': { variable: 'MCP_TRANSPORT', value: 'http' },
  '--stdio': { variable: 'MCP_TRANSPORT', value: 'stdio' },
  '--port': { variable: 'HTTP_PORT', httpOnly: true },
  '--host': { variable: 'HTTP_HOST', httpOnly: true },
};

/** The flags, as `--help` lists them. */
export const FLAG_NAMES = [...Object.keys(FLAGS), '--help', '--version'];

/**
 * Parse and validate the settings. Empty strings count as unset (MCP client configs often carry
 * `"X": ""`); command-line options override the environment. Throws ConfigError naming every bad
 * variable, its rule and the value received.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  const raw: Record<string, string> = {};
  for (const key of CONFIG_VARIABLES) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value;
  }
  const problems: string[] = [];
  const httpOnly: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const [name, inline] = (argv[i] as string).split(/=(.*)/s, 2) as [string, string | undefined];
    const flag = FLAGS[name];
    if (!flag) {
      problems.push(`${name} is not an option (options: ${FLAG_NAMES.join(', ')})`);
      continue;
    }
    const value = flag.value ?? inline ?? argv[(i += 1)];
    if (value === undefined) {
      problems.push(`${name} needs a value`);
      continue;
    }
    raw[flag.variable] = value;
    if (flag.httpOnly) httpOnly.push(name);
  }
  // `--port 3000` alone used to serve stdio and ignore the port: flags that only make sense
  // together are checked together.
  if (httpOnly.length > 0 && raw.MCP_TRANSPORT?.trim().toLowerCase() !== 'http') {
    problems.push(`${httpOnly.join(' and ')} only ${httpOnly.length > 1 ? 'apply' : 'applies'} to HTTP: add --http (or set MCP_TRANSPORT=http)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'configuration');
      const got = SECRET_VARIABLES.has(name) ? `${(raw[name] ?? '').trim().length} characters, not shown` : `'${raw[name] ?? ''}'`;
      return `${name} ${issue.message} (got ${got})`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  const v = parsed.data;
  return Object.freeze({
    maxMemoryMb: v.MAX_MEMORY_MB,
    executionTimeoutMs: v.EXECUTION_TIMEOUT_MS,
    maxConcurrentExecutions: v.MAX_CONCURRENT_EXECUTIONS,
    maxQueueSize: v.MAX_QUEUE_SIZE,
    maxOutputBytes: v.MAX_OUTPUT_BYTES,
    outputBudgetBytes: v.OUTPUT_BUDGET_BYTES,
    maxCodeBytes: v.MAX_CODE_BYTES,
    maxInputBytes: v.MAX_INPUT_BYTES,
    maxInputFilesBytes: v.MAX_INPUT_FILES_BYTES,
    maxOutputFiles: v.MAX_OUTPUT_FILES,
    maxOutputFilesBytes: v.MAX_OUTPUT_FILES_BYTES,
    workerMaxExecutions: v.WORKER_MAX_EXECUTIONS,
    workerIdleTimeoutMs: v.WORKER_IDLE_TIMEOUT_MS,
    // Unset: on for stdio (one user's laptop), off for HTTP (a shared service opts in).
    maxSessions: v.MAX_SESSIONS ?? (v.MCP_TRANSPORT === 'http' ? 0 : 4),
    sessionIdleTimeoutMs: v.SESSION_IDLE_TIMEOUT_MS,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    preinstalledPackages: Object.freeze(v.PREINSTALLED_PACKAGES),
    warmImports: Object.freeze(v.WARM_IMPORTS),
    packageCacheDir: v.PACKAGE_CACHE_DIR ?? defaultCacheDir(env),
    cacheFallback: cacheFallbackFrom(env[CACHE_FALLBACK_VARIABLE]),
    pyodideDistDir: v.PYODIDE_DIST_DIR,
    pyodideDistUrl: v.PYODIDE_DIST_URL,
    packageIndexUrl: v.PACKAGE_INDEX_URL,
    allowNetwork: v.ALLOW_NETWORK,
    networkAllowedHosts: Object.freeze(v.NETWORK_ALLOWED_HOSTS.map((h) => h.toLowerCase())),
    mountHostDir: v.MOUNT_HOST_DIR,
    mountMode: v.MOUNT_MODE,
    transport: v.MCP_TRANSPORT,
    httpHost: v.HTTP_HOST,
    httpPort: v.HTTP_PORT,
    httpAllowedHosts: Object.freeze(v.HTTP_ALLOWED_HOSTS.map((h) => h.toLowerCase())),
    httpMaxBodyBytes: v.HTTP_MAX_BODY_BYTES,
    authToken: v.MCP_AUTH_TOKEN,
  });
}

const CacheFallbackSchema = z.object({ wanted: z.string(), reason: z.string() });

/** The launcher's note on the cache (launcher.ts); anything unreadable counts as none. */
function cacheFallbackFrom(value: string | undefined): CacheFallback | undefined {
  if (!value) return undefined;
  try {
    const parsed = CacheFallbackSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The settings as health_check shows them; the bearer token only as whether there is one. */
export function describeConfig(config: Config): Record<string, unknown> {
  const { authToken, ...rest } = config;
  return { ...rest, authToken: authToken ? '(set)' : '(none)' };
}
