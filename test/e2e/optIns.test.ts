import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

/** A web server on loopback that answers every request and records it. */
async function startWebServer() {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.headers.host}${req.url}`);
    if (req.url === '/redirect') res.writeHead(302, { location: 'http://localhost:1/secret' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'python' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('network access (ALLOW_NETWORK)', () => {
  let web: Awaited<ReturnType<typeof startWebServer>>;
  beforeAll(async () => {
    web = await startWebServer();
  });
  afterAll(() => web?.close());

  it('is off by default: pyfetch and the js module are unavailable', async () => {
    const server = await startServer({});
    try {
      const r = await server.run(`from pyodide.http import pyfetch\nawait pyfetch('http://127.0.0.1:${web.port}/')`);
      expect(r.status).toBe('error');
      expect(web.requests).toEqual([]);
    } finally {
      await server.close();
    }
  });

  describe('switched on for some hosts', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ ALLOW_NETWORK: 'true', NETWORK_ALLOWED_HOSTS: `127.0.0.1:${web.port}` });
    });
    afterAll(() => server?.close());

    it('lets pyodide.http.pyfetch reach an allowed host', async () => {
      const r = await server.run(`from pyodide.http import pyfetch\nresponse = await pyfetch('http://127.0.0.1:${web.port}/data')\nawait response.json()`);
      expect(r.result).toBe("{'hello': 'python'}");
      expect(web.requests).toContain(`127.0.0.1:${web.port}/data`);
    });

    it('refuses a host that is not on the list', async () => {
      const r = await server.run("from pyodide.http import pyfetch\nawait pyfetch('http://localhost:9/')");
      expect(r.error?.code).toBe('PYTHON_ERROR');
      expect(r.error?.message).toMatch(/network access to localhost:9 is not allowed/);
    });

    it('checks every redirect target against the list', async () => {
      const r = await server.run(`from pyodide.http import pyfetch\nawait pyfetch('http://127.0.0.1:${web.port}/redirect')`);
      expect(r.error?.message).toMatch(/network access to localhost:1 is not allowed/);
    });

    it("tells the model in execute_python's description which hosts it may reach", async () => {
      const { tools } = await server.client.listTools();
      expect(tools.find((t) => t.name === 'execute_python')?.description).toContain(`Network: HTTP(S) with pyodide.http.pyfetch to 127.0.0.1:${web.port} only.`);
    });

    it('still gives Python nothing else of the JavaScript realm', async () => {
      const r = await server.run("import js\n[name for name in ('process', 'require', 'globalThis', 'eval', 'Function') if hasattr(js, name)]");
      expect(r.result).toBe('[]');
    });
  });
});

describe('a mounted host directory (MOUNT_HOST_DIR)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-pyexec-mount-'));
  const shared = path.join(root, 'shared');
  const outside = path.join(root, 'outside.txt');
  fs.mkdirSync(shared);
  fs.writeFileSync(path.join(shared, 'data.csv'), 'a,b\n1,2\n3,4\n');
  fs.writeFileSync(outside, 'not for python');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('read-only (the default)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ MOUNT_HOST_DIR: shared });
    });
    afterAll(() => server?.close());

    it("names the mount in execute_python's description", async () => {
      const { tools } = await server.client.listTools();
      expect(tools.find((t) => t.name === 'execute_python')?.description).toContain('Host files: /mnt/data (read-only)');
    });

    it('lets Python read the user files at /mnt/data', async () => {
      const r = await server.run("import csv\nlist(csv.DictReader(open('/mnt/data/data.csv')))");
      expect(r.result).toBe("[{'a': '1', 'b': '2'}, {'a': '3', 'b': '4'}]");
    });

    it('refuses writes', async () => {
      const r = await server.run("open('/mnt/data/new.txt', 'w').write('x')");
      expect(r.error?.details?.type).toBe('OSError');
      expect(fs.existsSync(path.join(shared, 'new.txt'))).toBe(false);
    });

    it('reaches nothing outside it', async () => {
      const r = await server.run(
        "import os\nresults = []\nfor p in ['/mnt/data/../outside.txt', '/mnt/outside.txt', '/mnt/data/../../" +
          path.basename(root) +
          "/outside.txt']:\n    try:\n        results.append(open(p).read())\n    except OSError as e:\n        results.append(type(e).__name__)\nresults",
      );
      expect(r.result).not.toContain('not for python');
    });
  });

  describe('read-write', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ MOUNT_HOST_DIR: shared, MOUNT_MODE: 'rw' });
    });
    afterAll(() => server?.close());

    it('lets Python write the user files', async () => {
      const r = await server.run("open('/mnt/data/result.txt', 'w').write('sum=10')");
      expect(r.status).toBe('success');
      expect(fs.readFileSync(path.join(shared, 'result.txt'), 'utf8')).toBe('sum=10');
    });

    it('refuses to create symbolic links there, which the host would follow anywhere', async () => {
      const r = await server.run(`import os\nos.symlink('${outside}', '/mnt/data/link')`);
      expect(r.error?.details?.type).toBe('PermissionError');
      expect(fs.existsSync(path.join(shared, 'link'))).toBe(false);
    });

    it('still refuses writes outside the mount and the working directory', async () => {
      const r = await server.run("open('/lib/evil.py', 'w').write('x')");
      expect(r.error?.details?.type).toBe('OSError');
      expect(r.error?.message).toMatch(/Read-only file system/);
    });
  });
});
