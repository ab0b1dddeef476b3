import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * One package cache for the whole run, so the start-up snapshot is made once (by the first
 * server that starts) and every other server reads it. Tests that check the cache itself use
 * their own directory.
 */
export default function setup(project: TestProject): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-pyexec-test-cache-'));
  project.provide('cacheDir', dir);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    cacheDir: string;
  }
}
