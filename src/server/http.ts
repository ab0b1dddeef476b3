import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config.js';
import type { Logger } from '../logging.js';

/**
 * MCP over streamable HTTP at /mcp. Stateless by default: every POST gets a new McpServer and
 * transport, and all of them share the one worker pool; no client state stays in the process, so
 * any number of replicas can sit behind an ordinary load balancer. When sessions are on
 * (MAX_SESSIONS > 0) it runs MCP sessions instead (mcp-session-id), which a balancer must route
 * stickily. /healthz answers the balancer's checks.
 *
 * Guards, in order: the Host header (and Origin, when sent) must name an allowed host, against
 * DNS rebinding; the bearer token, if MCP_AUTH_TOKEN is set, compared in constant time (403 when
 * missing or wrong); the body
 * size, capped by the transport (413).
 */

export type HttpDeps = {
  config: Config;
  logger: Logger;
  newServer: () => { server: McpServer; close: () => Promise<void> };
  /** What /healthz reports. */
  health: () => Record<string, unknown>;
};

export type HttpServer = { url: string; port: number; close: () => Promise<void> };

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]', '::1'];
const MAX_MCP_SESSIONS = 1000;
const PARSE_FAILED = Symbol('parse failed');

export async function startHttpServer(deps: HttpDeps): Promise<HttpServer> {
  const { config, logger } = deps;
  const wildcard = ['0.0.0.0', '::', '[::]'].includes(config.httpHost);
  const allowed = new Set([...LOOPBACK, ...(wildcard ? [] : [config.httpHost.toLowerCase()]), ...config.httpAllowedHosts]);
  const token = config.authToken ? digest(config.authToken) : undefined;
  const sessionful = config.maxSessions > 0;
  const mcpSessions = new Map<string, { transport: StreamableHTTPServerTransport; touch: () => void }>();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ error: String(error) }, 'http request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  // An execution may run for as long as EXECUTION_TIMEOUT_MS allows (progress keeps clients waiting).
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' });
      return send(res, 200, { status: 'ok', ...deps.health() });
    }
    if (path !== '/mcp') return send(res, 404, { error: 'not found; the MCP endpoint is /mcp' });

    const host = hostnameOf(req.headers.host);
    if (!host || !allowed.has(host)) {
      return sendRpcError(res, 403, `Host '${req.headers.host ?? ''}' is not allowed (HTTP_ALLOWED_HOSTS)`);
    }
    const origin = req.headers.origin;
    if (origin && origin !== 'null' && !allowed.has(hostnameOf(new URL(origin).host) ?? '')) {
      return sendRpcError(res, 403, `Origin '${origin}' is not allowed (HTTP_ALLOWED_HOSTS)`);
    }
    const auth = token ? checkToken(req.headers.authorization, token) : 'ok';
    if (auth !== 'ok') {
      // 403 without a WWW-Authenticate challenge: a 401 with `Bearer` makes clients (the Inspector,
      // the SDK with an auth provider) start OAuth discovery, which this server does not offer,
      // instead of showing this message.
      const what = auth === 'missing' ? 'no bearer token was sent' : 'the bearer token sent does not match the server\'s MCP_AUTH_TOKEN';
      return sendRpcError(res, 403, `Token required: ${what}. Send the header 'Authorization: Bearer <token>' with the server's MCP_AUTH_TOKEN`);
    }
    const sessionId = req.headers['mcp-session-id'];
    if (sessionful && typeof sessionId === 'string') {
      const session = mcpSessions.get(sessionId);
      if (!session) return sendRpcError(res, 404, `Unknown or expired MCP session '${sessionId}'`);
      session.touch();
      const body = req.method === 'POST' ? await parseBody(req, res) : undefined;
      if (body === PARSE_FAILED) return;
      await session.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST') {
      const why = sessionful ? 'Send mcp-session-id, or POST an initialize request to start a session' : 'This server is stateless: send each request as a POST';
      return sendRpcError(res, sessionful ? 400 : 405, why, sessionful ? {} : { allow: 'POST' });
    }

    const body = await parseBody(req, res);
    if (body === PARSE_FAILED) return;
    if (sessionful) return startSession(req, res, body);

    const { server: mcp, close } = deps.newServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // A plain JSON answer unless the client asked for progress, which needs an event stream.
      // With JSON, a replica that dies mid-call gives the client a clean HTTP error (502 from a
      // load balancer) instead of an event stream that just stops.
      enableJsonResponse: !wantsProgress(body),
    });
    res.on('close', () => {
      void transport.close();
      void close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  async function parseBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<unknown> {
    try {
      return JSON.parse(await readBody(req, config.httpMaxBodyBytes));
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        sendRpcError(res, 413, `Request body larger than ${config.httpMaxBodyBytes} bytes (HTTP_MAX_BODY_BYTES)`);
      } else {
        send(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: the body is not JSON' }, id: null });
      }
      return PARSE_FAILED;
    }
  }

  async function startSession(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): Promise<void> {
    if (!isInitializeRequest(body)) {
      return sendRpcError(res, 400, 'No mcp-session-id: the first request of a session must be initialize');
    }
    if (mcpSessions.size >= MAX_MCP_SESSIONS) {
      return sendRpcError(res, 503, `Too many MCP sessions (${MAX_MCP_SESSIONS}); retry later`);
    }
    const { server: mcp, close } = deps.newServer();
    let idle: NodeJS.Timeout | undefined;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        const touch = () => {
          clearTimeout(idle);
          idle = setTimeout(() => void transport.close(), config.sessionIdleTimeoutMs);
          idle.unref();
        };
        mcpSessions.set(id, { transport, touch });
        touch();
      },
    });
    transport.onclose = () => {
      clearTimeout(idle);
      if (transport.sessionId) mcpSessions.delete(transport.sessionId);
      void close();
    };
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.httpPort, config.httpHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  return {
    url: `http://${shownHost}:${port}/mcp`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const { transport } of mcpSessions.values()) void transport.close();
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function wantsProgress(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => (m as { params?: { _meta?: { progressToken?: unknown } } })?.params?._meta?.progressToken !== undefined);
}

function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant time: both sides are hashed to the same length first. */
function checkToken(header: string | undefined, token: Buffer): 'ok' | 'missing' | 'wrong' {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const equal = timingSafeEqual(digest(match?.[1]?.trim() ?? ''), token);
  if (!header?.trim()) return 'missing';
  return equal && match !== null ? 'ok' : 'wrong';
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function sendRpcError(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  send(res, status, { jsonrpc: '2.0', error: { code: -32000, message }, id: null }, headers);
}
