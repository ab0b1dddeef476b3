import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { createLineReader } from '../../src/server/lineReader.js';
import { BoundedStdioTransport, maxMessageBytes, readEnvelope } from '../../src/server/stdioTransport.js';

const quiet = createLogger({ logLevel: 'error', logFormat: 'json' }, { write: () => {} });

describe('createLineReader', () => {
  it('gives each line once, whatever the chunks', () => {
    const reader = createLineReader(1024);
    const input = Buffer.from('{"a":1}\n{"b":\n2}\r\n\n{"c":3}\n');
    const texts: string[] = [];
    for (let i = 0; i < input.length; i += 3) {
      for (const frame of reader.push(input.subarray(i, i + 3))) texts.push(frame.kind === 'message' ? frame.text : 'too large');
    }
    expect(texts).toEqual(['{"a":1}', '{"b":', '2}', '{"c":3}']);
  });

  it('keeps only the ends and the length of a line past the limit, then reads on', () => {
    const reader = createLineReader(1000);
    const frames = [
      ...reader.push(Buffer.from(`{"method":"m","params":{"x":"`)),
      ...reader.push(Buffer.alloc(200_000, 0x61)),
      ...reader.push(Buffer.from(`"},"id":7}\n{"ok":1}\n`)),
    ];
    expect(frames).toHaveLength(2);
    const [first, second] = frames;
    expect(first?.kind).toBe('tooLarge');
    if (first?.kind !== 'tooLarge') return;
    expect(first.bytes).toBe(29 + 200_000 + 10);
    expect(first.head.startsWith('{"method":"m"')).toBe(true);
    expect(first.tail.endsWith('"id":7}')).toBe(true);
    expect(first.head.length + first.tail.length).toBeLessThanOrEqual(128 * 1024);
    expect(second).toEqual({ kind: 'message', text: '{"ok":1}' });
  });
});

describe('readEnvelope', () => {
  it('reads the id the SDK client writes last, the method and the tool', () => {
    const head = '{"method":"tools/call","params":{"name":"execute_python","arguments":{"code":"xxxx';
    expect(readEnvelope(head, 'xxxx"}},"jsonrpc":"2.0","id":12}')).toEqual({ id: 12, method: 'tools/call', tool: 'execute_python' });
  });

  it('reads an id written first, and no id from inside the arguments', () => {
    expect(readEnvelope('{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{"name":"t"', 'x"}}}').id).toBe('a-1');
    expect(readEnvelope('{"method":"tools/call","params":{"arguments":{"id":5,', '"id":5}}}').id).toBeUndefined();
  });
});

describe('maxMessageBytes', () => {
  it('takes the largest call the settings allow, JSON escapes included', () => {
    const limit = maxMessageBytes({ maxCodeBytes: 1 << 20, maxInputBytes: 1 << 20, maxInputFilesBytes: 10 << 20 });
    expect(limit).toBeGreaterThan(6 * (12 << 20));
    expect(limit).toBeLessThan(100 << 20);
  });
});

describe('BoundedStdioTransport', () => {
  async function connect(maxBytes: number) {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const written: Record<string, unknown>[] = [];
    stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) written.push(JSON.parse(line) as Record<string, unknown>);
    });
    const transport = new BoundedStdioTransport({
      maxMessageBytes: maxBytes,
      logger: quiet,
      toolError: (tool, error) => (tool === 'execute_python' ? { content: [{ type: 'text', text: error.code }], structuredContent: { error }, isError: true } : undefined),
      stdin,
      stdout,
    });
    const received: JSONRPCMessage[] = [];
    let closed = false;
    transport.onmessage = (m) => received.push(m);
    transport.onclose = () => (closed = true);
    await transport.start();
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    return { stdin, written, received, closed: () => closed, settle };
  }

  it('answers a line that is not JSON with a parse error and reads the next message', async () => {
    const t = await connect(1024);
    t.stdin.write('not json\n{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    await t.settle();
    expect(t.written).toEqual([{ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the message is not JSON' } }]);
    expect(t.received).toEqual([{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
    expect(t.closed()).toBe(false);
  });

  it('answers a tool call past the limit with the tool’s INVALID_INPUT result and stays open', async () => {
    const t = await connect(1024);
    t.stdin.write(`{"method":"tools/call","params":{"name":"execute_python","arguments":{"code":"${'x'.repeat(5000)}"}},"jsonrpc":"2.0","id":4}\n`);
    t.stdin.write('{"jsonrpc":"2.0","id":5,"method":"ping"}\n');
    await t.settle();
    expect(t.written).toHaveLength(1);
    const answer = t.written[0] as { id: number; result: { isError: boolean; structuredContent: { error: { code: string; details: { reason: string } } } } };
    expect(answer.id).toBe(4);
    expect(answer.result.isError).toBe(true);
    expect(answer.result.structuredContent.error.code).toBe('INVALID_INPUT');
    expect(answer.result.structuredContent.error.details.reason).toBe('MESSAGE_TOO_LARGE');
    expect(t.received).toEqual([{ jsonrpc: '2.0', id: 5, method: 'ping' }]);
    expect(t.closed()).toBe(false);
  });

  it('answers another request past the limit with a JSON-RPC error carrying its id', async () => {
    const t = await connect(1024);
    t.stdin.write(`{"jsonrpc":"2.0","id":"r","method":"resources/read","params":{"uri":"${'x'.repeat(5000)}"}}\n`);
    await t.settle();
    expect(t.written).toMatchObject([{ id: 'r', error: { code: -32600, data: { reason: 'MESSAGE_TOO_LARGE' } } }]);
  });
});
