import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type CallToolResult, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { boundText } from '../boundedText.js';
import type { Config } from '../config.js';
import type { ErrorInfo } from '../errors.js';
import type { Logger } from '../logging.js';
import { createLineReader, type Frame } from './lineReader.js';

/**
 * The stdio transport: one JSON-RPC message per line, as the SDK's, but nothing a client sends
 * closes it. The SDK's transport caps a line at 10 MiB and then closes itself (the server exited
 * silently with code 0), though the settings accept larger calls. Here a line up to the largest
 * request the settings allow is read in linear time; a longer one, or one that is not JSON-RPC,
 * gets an answer and the next line is read as usual.
 */

/** JSON-RPC's own error codes for a message that cannot be taken. */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

/**
 * The largest message a valid call can be: JSON escapes a character in at most 6 bytes (`\u0000`),
 * so 6× the code, input and files the settings accept, plus room for the rest of the request.
 */
export function maxMessageBytes(config: Pick<Config, 'maxCodeBytes' | 'maxInputBytes' | 'maxInputFilesBytes'>): number {
  return 6 * (config.maxCodeBytes + config.maxInputBytes + config.maxInputFilesBytes) + 1024 * 1024;
}

/** What can be read of an over-long message from its two ends (the SDK's client writes `id` last). */
export function readEnvelope(head: string, tail: string): { id?: string | number; method?: string; tool?: string } {
  const ID = String.raw`(-?\d{1,16}|"(?:[^"\\]|\\.){0,200}")`;
  // Keys before the first nested object, or after the last one, are the message's own.
  const id = new RegExp(String.raw`"id"\s*:\s*${ID}\s*\}\s*$`).exec(tail)?.[1] ?? new RegExp(String.raw`^\s*\{[^{}]*?"id"\s*:\s*${ID}`).exec(head)?.[1];
  const method = /^\s*\{[^{}]*?"method"\s*:\s*"([^"\\]{1,100})"/.exec(head)?.[1];
  const tool = /"params"\s*:\s*\{\s*"name"\s*:\s*"([^"\\]{1,128})"/.exec(head)?.[1];
  const parsedId = id === undefined ? undefined : (JSON.parse(id) as string | number);
  return { ...(parsedId !== undefined && { id: parsedId }), ...(method && { method }), ...(tool && { tool }) };
}

export type StdioTransportOptions = {
  maxMessageBytes: number;
  logger: Logger;
  /** The tool's failure result for an error, or undefined for a tool the server does not have. */
  toolError(tool: string, error: ErrorInfo): CallToolResult | undefined;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
};

export class BoundedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly stdin: NodeJS.ReadableStream;
  private readonly stdout: NodeJS.WritableStream;
  private readonly reader: ReturnType<typeof createLineReader>;
  private readonly onData = (chunk: Buffer | string) => {
    for (const frame of this.reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) this.take(frame);
  };
  private readonly onStreamError = (error: Error) => this.onerror?.(error);

  constructor(private readonly options: StdioTransportOptions) {
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.reader = createLineReader(options.maxMessageBytes);
  }

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStreamError);
  }

  async close(): Promise<void> {
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStreamError);
    this.stdin.pause();
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(message);
  }

  private write(message: unknown): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  private take(frame: Frame): void {
    if (frame.kind === 'tooLarge') {
      this.answerTooLarge(frame);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(frame.text);
    } catch (error) {
      this.options.logger.info({ bytes: frame.text.length, error: boundText((error as Error).message) }, 'message is not JSON');
      void this.write({ jsonrpc: '2.0', id: null, error: { code: PARSE_ERROR, message: 'Parse error: the message is not JSON' } });
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      const id = (value as { id?: unknown } | null)?.id;
      this.options.logger.info({ bytes: frame.text.length }, 'message is not JSON-RPC');
      void this.write({
        jsonrpc: '2.0',
        id: typeof id === 'string' || typeof id === 'number' ? id : null,
        error: { code: INVALID_REQUEST, message: 'Invalid request: the message is not a JSON-RPC 2.0 message' },
      });
      return;
    }
    this.onmessage?.(parsed.data);
  }

  private answerTooLarge(frame: Extract<Frame, { kind: 'tooLarge' }>): void {
    const limit = this.options.maxMessageBytes;
    const { id, method, tool } = readEnvelope(frame.head, frame.tail);
    this.options.logger.info({ bytes: frame.bytes, limit, method, tool }, 'message too large');
    const message = `The message is ${frame.bytes} bytes; the largest the settings allow is ${limit} bytes (MAX_CODE_BYTES, MAX_INPUT_BYTES, MAX_INPUT_FILES_BYTES)`;
    const result =
      id !== undefined && method === 'tools/call' && tool !== undefined
        ? this.options.toolError(tool, { code: 'INVALID_INPUT', message, details: { reason: 'MESSAGE_TOO_LARGE', bytes: frame.bytes, limit } })
        : undefined;
    if (result) {
      void this.write({ jsonrpc: '2.0', id, result });
    } else if (id !== undefined || method === undefined) {
      // A request gets its error; so does a message nothing can be read of (id null), as JSON-RPC asks.
      void this.write({ jsonrpc: '2.0', id: id ?? null, error: { code: INVALID_REQUEST, message, data: { reason: 'MESSAGE_TOO_LARGE', bytes: frame.bytes, limit } } });
    }
  }
}
