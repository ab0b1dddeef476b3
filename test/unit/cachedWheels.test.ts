import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveFromCache } from '../../src/packages/cachedWheels.js';
import type { InstalledRecord } from '../../src/packages/installerMessages.js';
import { parseRequirements, type Requirement } from '../../src/packages/requirements.js';

let dir: string;
const locks = () => path.join(dir, 'locks');

function wheel(name: string, version: string, depends: string[] = [], tag = 'py3-none-any'): InstalledRecord {
  const file = path.join(dir, 'wheels', `${name}-${version}-${tag}.whl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${name} ${version}`);
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  return { name, version, kind: 'wheel', file, sha256, depends };
}

function remember(id: string, records: InstalledRecord[]): void {
  fs.mkdirSync(locks(), { recursive: true });
  fs.writeFileSync(path.join(locks(), `${id}.json`), JSON.stringify(records));
}

function reqs(...list: string[]): Requirement[] {
  const parsed = parseRequirements(list);
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  return parsed.requirements;
}

const names = (records: InstalledRecord[] | undefined) => records?.map((r) => `${r.name}==${r.version}`).sort();

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cached-wheels-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('resolveFromCache', () => {
  it('resolves a set from packages remembered in other sets, with their dependencies', () => {
    remember('one', [wheel('b', '0.9.0')]);
    remember('two', [wheel('c', '2.0'), wheel('a', '1.0', ['c'])]);
    expect(names(resolveFromCache(locks(), reqs('a', 'b'), new Map()))).toEqual(['a==1.0', 'b==0.9.0', 'c==2.0']);
  });

  it('takes the newest cached version that satisfies the specifier', () => {
    remember('one', [wheel('b', '0.9.0')]);
    remember('two', [wheel('b', '1.2')]);
    expect(names(resolveFromCache(locks(), reqs('b'), new Map()))).toEqual(['b==1.2']);
    expect(names(resolveFromCache(locks(), reqs('b<1'), new Map()))).toEqual(['b==0.9.0']);
  });

  it('leaves out dependencies that are installed already', () => {
    const c = wheel('c', '2.0');
    remember('two', [c, wheel('a', '1.0', ['c'])]);
    expect(names(resolveFromCache(locks(), reqs('a'), new Map([['c', c]])))).toEqual(['a==1.0']);
  });

  it('gives up (the index decides) when a version, a dependency or the cache is missing', () => {
    expect(resolveFromCache(locks(), reqs('b'), new Map())).toBeUndefined();
    remember('one', [wheel('b', '0.9.0'), wheel('a', '1.0', ['zz'])]);
    expect(resolveFromCache(locks(), reqs('b>=1'), new Map())).toBeUndefined();
    expect(resolveFromCache(locks(), reqs('a'), new Map())).toBeUndefined();
  });

  it('refuses a wheel whose bytes changed since it was installed', () => {
    const b = wheel('b', '0.9.0');
    remember('one', [b]);
    fs.writeFileSync(b.file, 'tampered');
    expect(resolveFromCache(locks(), reqs('b'), new Map())).toBeUndefined();
  });

  it('takes only pure-Python wheels (a platform wheel may not fit this Pyodide)', () => {
    remember('one', [wheel('n', '1.0', [], 'cp312-cp312-pyodide_2024_0_wasm32')]);
    expect(resolveFromCache(locks(), reqs('n'), new Map())).toBeUndefined();
  });
});
