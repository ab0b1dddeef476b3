import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_CONCURRENT_EXECUTIONS: '3', EXECUTION_TIMEOUT_MS: '20000' });
});
afterAll(() => server?.close());

describe('tools/list', () => {
  it('has tool schemas the MCP Inspector\'s --strict check passes: every subschema constrains something, one type each', async () => {
    // What `mcp-inspector --cli --strict --method tools/list` (2.12) warned about here: schemas with no
    // validation keyword (zod's {} for unknown) and array types (zod's nullable).
    const KEYWORDS = ['type', 'anyOf', 'oneOf', 'allOf', 'enum', 'const', '$ref', 'not'];
    const problems: string[] = [];
    const walk = (schema: unknown, path: string) => {
      if (schema === null || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      if (!KEYWORDS.some((k) => k in s)) problems.push(`${path}: no validation keyword`);
      if (Array.isArray(s.type)) problems.push(`${path}: type is an array`);
      for (const [key, value] of Object.entries(s)) {
        if (key === 'properties' || key === 'definitions' || key === '$defs') {
          for (const [name, sub] of Object.entries(value as Record<string, unknown>)) walk(sub, `${path}.${key}.${name}`);
        } else if (key === 'items' || key === 'additionalProperties' || key === 'propertyNames' || key === 'not') {
          walk(value, `${path}.${key}`);
        } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
          (value as unknown[]).forEach((sub, i) => walk(sub, `${path}.${key}[${i}]`));
        }
      }
    };
    const { tools } = await server.client.listTools();
    for (const tool of tools) {
      walk(tool.inputSchema, `${tool.name}.inputSchema`);
      walk(tool.outputSchema, `${tool.name}.outputSchema`);
    }
    expect(problems).toEqual([]);
  });

  it('lists the three tools with input and output schemas and annotations', async () => {
    const { tools } = await server.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'close_session',
      'create_session',
      'execute_python',
      'health_check',
      'install_packages',
      'reset_session',
    ]);
    for (const tool of tools) {
      expect(tool.description?.length).toBeGreaterThan(20);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
    }
    const exec = tools.find((t) => t.name === 'execute_python');
    expect(exec?.inputSchema.required).toEqual(['code']);
    expect(Object.keys(exec?.inputSchema.properties ?? {})).toEqual(['code', 'inputData', 'files', 'sessionId', 'timeoutMs', 'fullOutput']);
    // Sessions are on (stdio's default), no opt-in is: the description says so.
    expect(exec?.description).toMatch(/unless it passes a sessionId from create_session/);
    expect(exec?.description).toMatch(/No network\. No host files\. No subprocesses\./);
    expect(tools.find((t) => t.name === 'health_check')?.annotations?.readOnlyHint).toBe(true);
    expect(tools.find((t) => t.name === 'install_packages')?.inputSchema.required).toEqual(['packages']);
  });
});

describe('health_check', () => {
  it('reports status, versions, settings, metrics, pool and packages', async () => {
    await server.run('1');
    await server.run('1/0');
    const result = await server.call('health_check');
    expect(result.isError).toBeFalsy();
    const h = result.structuredContent as Record<string, any>;
    expect(h).toMatchObject({
      status: 'success',
      health: 'ok',
      pythonVersion: expect.stringMatching(/^3\.\d+\.\d+$/),
      pyodideVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      config: { maxConcurrentExecutions: 3, executionTimeoutMs: 20000, maxMemoryMb: 512, logLevel: 'info', logFormat: 'json' },
      pool: { maxWorkers: 3, busy: 0, queued: 0 },
      packages: [],
    });
    expect(h.metrics.totalExecutions).toBeGreaterThanOrEqual(2);
    expect(h.metrics.totalErrors).toBeGreaterThanOrEqual(1);
    expect(h.metrics.errorsByCode.PYTHON_ERROR).toBeGreaterThanOrEqual(1);
    expect(h.metrics.successRate).toBeGreaterThan(0);
    expect(h.metrics.successRate).toBeLessThan(1);
    expect(h.metrics.averageExecutionTimeMs).toBeGreaterThan(0);
    expect(h.metrics.averageMemoryUsageMb).toBeGreaterThan(0);
    expect(h.uptimeMs).toBeGreaterThan(0);
    expect(h.pool.workers).toBeGreaterThanOrEqual(1);
    const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
    expect(text).toMatch(/^mcp-python-executor \S+: ok, up \d+ s\nPython 3\.\d+\.\d+ \(Pyodide/);
  });
});
