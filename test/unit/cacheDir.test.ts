import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { usableCacheDir } from '../../src/cacheDir.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-pyexec-cachedir-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const shared = (root: string) => path.join(root, `mcp-python-executor-${process.getuid?.() ?? os.userInfo().username}`);

describe('usableCacheDir', () => {
  it('uses the directory asked for when it can be made, and makes it', () => {
    const dir = path.join(tmp, 'ok', 'cache');
    expect(usableCacheDir(dir, tmp)).toEqual({ dir });
    expect(fs.statSync(dir).isDirectory()).toBe(true);
  });

  it('falls back to a private per-user directory under the temporary one, saying why', () => {
    fs.writeFileSync(path.join(tmp, 'a-file'), '');
    const root = fs.mkdtempSync(path.join(tmp, 'tmp-'));
    const wanted = path.join(tmp, 'a-file', 'cache');
    const r = usableCacheDir(wanted, root);
    expect(r.dir).toBe(shared(root));
    expect(r.fallback?.wanted).toBe(wanted);
    expect(r.fallback?.reason).toMatch(/^ENOTDIR/);
    expect(fs.statSync(r.dir).mode & 0o777).toBe(0o700);
    expect(usableCacheDir(wanted, root).dir).toBe(r.dir);
  });

  it('does not trust a per-user directory others may write to, and makes a fresh one', () => {
    const root = fs.mkdtempSync(path.join(tmp, 'tmp-'));
    fs.mkdirSync(shared(root));
    fs.chmodSync(shared(root), 0o777);
    const r = usableCacheDir(path.join(tmp, 'a-file', 'cache'), root);
    expect(r.dir).not.toBe(shared(root));
    expect(path.dirname(r.dir)).toBe(root);
    expect(path.basename(r.dir)).toMatch(/^mcp-python-executor-/);
  });
});
