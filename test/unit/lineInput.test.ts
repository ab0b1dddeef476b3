import { describe, expect, it } from 'vitest';
import { LineInput } from '../../src/runtime/stdio.js';

const readAll = (input: LineInput, size: number): string[] => {
  const reads: string[] = [];
  const buffer = new Uint8Array(size);
  for (let n = input.read(buffer); n > 0; n = input.read(buffer)) reads.push(new TextDecoder().decode(buffer.subarray(0, n)));
  return reads;
};

describe('LineInput', () => {
  it('gives one line per read, each ending with a newline, then the end of input', () => {
    expect(readAll(new LineInput(['first', 'second\n', '']), 1024)).toEqual(['first\n', 'second\n', '\n']);
  });

  it('splits a line longer than the buffer over several reads, bytes not characters', () => {
    expect(readAll(new LineInput(['héllo']), 4).join('')).toBe('héllo\n');
    expect(readAll(new LineInput(['abcdefgh']), 4)).toEqual(['abcd', 'efgh', '\n']);
  });

  it('is at its end at once without lines, and stays there', () => {
    const input = new LineInput([]);
    expect(input.read(new Uint8Array(8))).toBe(0);
    expect(input.read(new Uint8Array(8))).toBe(0);
  });
});
