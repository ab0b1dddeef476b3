import { describe, expect, it } from 'vitest';
import { fitOutput, fitStream, keptText, shareBudget } from '../../src/server/outputBudget.js';

const stream = (text: string, extra: { bytes?: number; cutAt?: number } = {}) => ({
  text,
  bytes: extra.bytes ?? Buffer.byteLength(text),
  truncated: extra.cutAt !== undefined,
  cutAt: extra.cutAt,
});

describe('shareBudget', () => {
  it('gives every part what it needs when all fit', () => {
    expect(shareBudget([10, 20, 0], 100)).toEqual([10, 20, 0]);
  });

  it('gives what small parts leave to the large ones, evenly', () => {
    expect(shareBudget([1000, 10, 1000], 110)).toEqual([50, 10, 50]);
    expect(shareBudget([1000, 0, 0], 64)).toEqual([64, 0, 0]);
  });
});

describe('fitStream', () => {
  it('keeps a stream that fits as it is', () => {
    expect(fitStream('stdout', stream('abc\n'), 10)).toEqual({ text: 'abc\n', cutBytes: 0 });
  });

  it('shows the head and the tail around a mark that counts the bytes left out', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(2, '0')}\n`).join(''); // 8 bytes each
    const fitted = fitStream('stdout', stream(lines), 32);
    expect(fitted.text).toBe('line 00\nline 01\n[… 768 bytes of stdout cut here …]\nline 98\nline 99\n');
    expect(fitted.cutBytes).toBe(800 - 32);
  });

  it('never cuts a character in half', () => {
    const fitted = fitStream('stdout', stream('é'.repeat(100)), 11);
    expect(fitted.text).toBe(`${'é'.repeat(3)}\n[… 190 bytes of stdout cut here …]\n${'é'.repeat(2)}`);
  });

  it('counts the bytes the worker dropped as cut too', () => {
    const fitted = fitStream('stderr', stream('headtail', { bytes: 1000, cutAt: 4 }), 100);
    expect(fitted).toEqual({ text: 'head\n[… 992 bytes of stderr cut here …]\ntail', cutBytes: 992 });
  });
});

describe('fitOutput', () => {
  it('fits stdout, stderr and the result into one budget', () => {
    const out = fitOutput({ stdout: stream('o'.repeat(1000)), stderr: stream('short'), result: "'" + 'r'.repeat(1000) + "'" }, 205);
    expect(out.stderr.text).toBe('short');
    expect(out.stdout.cutBytes).toBe(900);
    expect(out.result?.cutBytes).toBe(1002 - 100);
  });
});

describe('keptText', () => {
  it('marks where the worker dropped bytes', () => {
    expect(keptText('stdout', stream('ab\ncd', { bytes: 50, cutAt: 3 }))).toBe('ab\n[… 45 bytes of stdout cut here …]\ncd');
  });
});
