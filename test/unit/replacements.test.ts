import { describe, expect, it } from 'vitest';
import { MAX_REASON_CHARS, MAX_REASON_KEYS, OTHER_REASON } from '../../src/boundedText.js';
import { createReplacementLog } from '../../src/pool/replacements.js';
import type { Logger } from '../../src/logging.js';

const quiet = { info: () => {} } as unknown as Logger;

describe('worker replacement reasons', () => {
  it('folds numbers, bounds each reason, and counts distinct reasons up to a bound, then under one key', () => {
    const log = createReplacementLog(quiet);
    log.note('worker exited with code 7');
    log.note('worker exited with code 8');
    log.note(`module ${'x'.repeat(60 * 1024 * 1024)} was imported`);
    for (let i = 0; i < 1000; i += 1) log.note(`reason ${'abcdefghij'[i % 10]!.repeat(i + 1)}`);
    const byReason = log.byReason();
    expect(log.total).toBe(1003);
    expect(byReason['worker exited with code N']).toBe(2);
    expect(Object.keys(byReason).length).toBe(MAX_REASON_KEYS);
    expect(byReason[OTHER_REASON]).toBe(1003 - 2 - (MAX_REASON_KEYS - 2));
    for (const key of Object.keys(byReason)) expect(key.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
  });
});
