import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeRefusal, SUPPORTED_NODE } from '../../src/nodeSupport.js';

describe('nodeRefusal', () => {
  it.each(['20.19.0', '20.20.2', '22.12.0', '22.23.3', '23.0.0', '24.21.0', 'v25.1.0'])('lets Node %s run', (version) => {
    expect(nodeRefusal(version)).toBeUndefined();
  });

  it.each(['18.20.8', '20.11.1', '20.18.3', '21.7.3', '22.11.0', '16.0.0'])('refuses Node %s, naming the supported range', (version) => {
    expect(nodeRefusal(version)).toBe(
      `mcp-python-executor: Node.js v${version} is not supported; it needs Node.js ^20.19.0 || >=22.12.0 ` +
        '(20.19 or later in 20.x, 22.12 or later, or 23 and up). Install a current LTS from https://nodejs.org and start it again.\n',
    );
  });

  it('names the same range as package.json engines', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(SUPPORTED_NODE);
  });
});
