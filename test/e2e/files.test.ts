import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { describeUnless } from '../helpers/skips.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MAX_OUTPUT_FILES: '3', MAX_OUTPUT_FILES_BYTES: '4096', MAX_INPUT_FILES_BYTES: '2048' });
});
afterAll(() => server?.close());

type FileInfo = { path: string; mimeType: string; size: number; returnedAs: string; note?: string };

async function call(args: Record<string, unknown>) {
  const r = await server.call('execute_python', args);
  const s = r.structuredContent as { status: string; result: string | null; files: FileInfo[]; error?: { code: string; message: string } };
  return { ...s, content: r.content };
}

/** A PNG written by pure Python (zlib + struct): a 4×3 red image. */
const WRITE_PNG = `
import os, struct, zlib
def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
raw = b''.join(b'\\x00' + bytes([255, 0, 0]) * 4 for _ in range(3))
png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 4, 3, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
os.makedirs('output', exist_ok=True)
open('output/red.png', 'wb').write(png)
png.hex()`;

describe('files in', () => {
  it('hands the code a CSV to summarise', async () => {
    const r = await call({
      code: "import csv, statistics\nrows = list(csv.DictReader(open('data/sales.csv')))\nstatistics.mean(float(r['amount']) for r in rows)",
      files: [{ path: 'data/sales.csv', content: 'item,amount\napples,3\npears,5\nplums,10\n' }],
    });
    expect(r.result).toBe('6.0');
  });

  it('decodes base64 content', async () => {
    const r = await call({ code: "open('b.bin', 'rb').read()", files: [{ path: 'b.bin', content: Buffer.from([0, 1, 255]).toString('base64'), encoding: 'base64' }] });
    expect(r.result).toBe("b'\\x00\\x01\\xff'");
  });

  it('gives each execution only its own files', async () => {
    await call({ code: 'pass', files: [{ path: 'mine.txt', content: 'secret' }] });
    const r = await call({ code: "import os\nsorted(os.listdir('.'))" });
    expect(r.result).toBe('[]');
  });

  it.each([
    ['an absolute path', '/etc/passwd', /is absolute/],
    ['a path with ..', '../escape.txt', /contains '\.\.'/],
    ['a hidden .. inside', 'a/../../b', /contains '\.\.'/],
    ['a backslash', 'a\\b.txt', /backslash/],
    ['a directory', 'dir/', /names a directory/],
  ])('refuses %s with INVALID_INPUT', async (_n, path, message) => {
    const r = await call({ code: 'pass', files: [{ path, content: 'x' }] });
    expect(r.error?.code).toBe('INVALID_INPUT');
    expect(r.error?.message).toMatch(message);
  });

  it('refuses files over MAX_INPUT_FILES_BYTES', async () => {
    const r = await call({ code: 'pass', files: [{ path: 'big.txt', content: 'x'.repeat(3000) }] });
    expect(r.error?.code).toBe('INVALID_INPUT');
    expect(r.error?.message).toMatch(/3000 bytes in all; the limit is 2048 \(MAX_INPUT_FILES_BYTES\)/);
  });

  it('refuses the same path twice', async () => {
    const r = await call({ code: 'pass', files: [{ path: 'a.txt', content: '1' }, { path: './a.txt', content: '2' }] });
    expect(r.error?.message).toMatch(/given twice/);
  });
});

describe('files and plots out', () => {
  it('returns an image written to ./output/ as image content with the same bytes', async () => {
    const r = await call({ code: WRITE_PNG });
    const written = Buffer.from(String(r.result).slice(1, -1), 'hex');
    const image = r.content.find((c) => c.type === 'image') as { data: string; mimeType: string };
    expect(image.mimeType).toBe('image/png');
    expect(Buffer.from(image.data, 'base64').equals(written)).toBe(true);
    expect(r.files).toEqual([{ path: 'output/red.png', mimeType: 'image/png', size: written.length, returnedAs: 'image' }]);
  });

  it('returns other files as embedded resources, text or blob', async () => {
    const r = await call({ code: "import os\nos.makedirs('output/sub')\nopen('output/sub/table.csv', 'w').write('a,b\\n1,2\\n')\nopen('output/data.bin', 'wb').write(bytes(range(5)))" });
    const resources = r.content.filter((c) => c.type === 'resource').map((c) => (c as unknown as { resource: Record<string, string> }).resource);
    expect(resources).toEqual([
      { uri: expect.stringMatching(/^python-output:\/\/\/[\w-]+\/output\/data\.bin$/), mimeType: 'application/octet-stream', blob: Buffer.from([0, 1, 2, 3, 4]).toString('base64') },
      { uri: expect.stringMatching(/\/output\/sub\/table\.csv$/), mimeType: 'text/csv', text: 'a,b\n1,2\n' },
    ]);
    expect(r.files.map((f) => [f.path, f.returnedAs])).toEqual([
      ['output/data.bin', 'blob'],
      ['output/sub/table.csv', 'text'],
    ]);
  });

  it('caps the count and the bytes, and says what it left out', async () => {
    const r = await call({ code: "import os\nos.makedirs('output')\nfor i in range(5):\n    open(f'output/f{i}.txt', 'w').write('x' * 1500)" });
    expect(r.files.map((f) => [f.path, f.returnedAs])).toEqual([
      ['output/f0.txt', 'text'],
      ['output/f1.txt', 'text'],
      ['output/f2.txt', 'omitted'],
      ['output/f3.txt', 'omitted'],
      ['output/f4.txt', 'omitted'],
    ]);
    expect(r.files[2]?.note).toMatch(/MAX_OUTPUT_FILES_BYTES/);
    expect(r.files[3]?.note).toMatch(/MAX_OUTPUT_FILES\)/);
    const text = r.content[0]?.type === 'text' ? r.content[0].text : '';
    expect(text).toContain('- output/f4.txt (text/plain, 1.5 kB; left out: more than 3 files (MAX_OUTPUT_FILES))');
  });

  it('types files by their bytes: a text file named .png is text, an unnamed PNG an image', async () => {
    const r = await call({ code: `${WRITE_PNG}\nimport os\nos.rename('output/red.png', 'output/red.bin')\nopen('output/not.png', 'w').write('hello')` });
    expect(r.files).toEqual([
      { path: 'output/not.png', mimeType: 'text/plain', size: 5, returnedAs: 'text', note: 'named as image/png, but its bytes are not' },
      { path: 'output/red.bin', mimeType: 'image/png', size: expect.any(Number), returnedAs: 'image' },
    ]);
    expect(r.content.filter((c) => c.type === 'image')).toHaveLength(1);
  });

  it('returns SVG as a text resource, not an image', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    const r = await call({ code: `import os\nos.makedirs('output')\nopen('output/box.svg', 'w').write(${JSON.stringify(svg)})` });
    expect(r.content.some((c) => c.type === 'image')).toBe(false);
    const resource = r.content.find((c) => c.type === 'resource') as unknown as { resource: Record<string, string> };
    expect(resource.resource).toMatchObject({ mimeType: 'image/svg+xml', text: svg });
    expect(r.files[0]?.returnedAs).toBe('text');
  });

  it('does not send an empty or broken image as an image', async () => {
    const r = await call({ code: "import os\nos.makedirs('output')\nopen('output/empty.png', 'wb').close()\nopen('output/broken.png', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n\\xff\\x00')" });
    expect(r.content.some((c) => c.type === 'image')).toBe(false);
    expect(r.files).toEqual([
      { path: 'output/broken.png', mimeType: 'application/octet-stream', size: 10, returnedAs: 'blob', note: 'named as image/png, but its bytes are not' },
      { path: 'output/empty.png', mimeType: 'image/png', size: 0, returnedAs: 'omitted', note: 'empty file' },
    ]);
  });

  it('does not follow a symbolic link out of ./output/', async () => {
    const r = await call({ code: "import os\nos.makedirs('output')\nopen('/tmp/outside.txt', 'w').write('x')\nos.symlink('/tmp/outside.txt', 'output/link.txt')" });
    expect(r.files).toEqual([]);
  });
});

/** A full Pyodide distribution (the release archive's pyodide/ folder) to test matplotlib with. */
const distWithMatplotlib = (() => {
  const dir = process.env.PYODIDE_TEST_DIST_DIR;
  if (!dir) return undefined;
  try {
    return (createRequire(import.meta.url)('node:fs') as typeof import('node:fs')).readdirSync(dir).some((f: string) => /^matplotlib-.*\.whl$/.test(f)) ? dir : undefined;
  } catch {
    return undefined;
  }
})();

describeUnless(distWithMatplotlib ? undefined : 'needs PYODIDE_TEST_DIST_DIR: a Pyodide distribution with matplotlib (the release archive; not fetchable offline)', 'matplotlib figures', () => {
  it('returns figures left open, and after plt.show(), as PNG images without the code saving them', async () => {
    const mpl = await startServer({ PYODIDE_DIST_DIR: distWithMatplotlib as string, PREINSTALLED_PACKAGES: 'matplotlib' });
    try {
      const r = await mpl.call('execute_python', { code: "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()\nplt.figure()\nplt.bar(['a', 'b'], [2, 5])" });
      const images = r.content.filter((c) => c.type === 'image') as { data: string; mimeType: string }[];
      expect(images).toHaveLength(2);
      for (const image of images) expect(Buffer.from(image.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await mpl.close();
    }
  });
});
