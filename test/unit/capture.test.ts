import { describe, expect, it } from 'vitest';
import { CappedOutput } from '../../src/runtime/capture.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('CappedOutput', () => {
  it('keeps everything written under the cap', () => {
    const out = new CappedOutput(100);
    out.write(bytes('hello '));
    out.write(bytes('world\n'));
    expect(out.text()).toBe('hello world\n');
    expect(out.totalBytes).toBe(12);
    expect(out.truncated).toBe(false);
  });

  it('returns the length of every write, kept or not, so Python sees it all taken', () => {
    const out = new CappedOutput(4);
    expect(out.write(bytes('abc'))).toBe(3);
    expect(out.write(bytes('defgh'))).toBe(5);
    expect(out.write(bytes('ij'))).toBe(2);
  });

  it('is not truncated when exactly the cap is written', () => {
    const out = new CappedOutput(5);
    out.write(bytes('12345'));
    expect(out.text()).toBe('12345');
    expect(out.truncated).toBe(false);
  });

  it('keeps the first and the last half of the cap, says where the cut is, and counts the rest', () => {
    const out = new CappedOutput(5);
    out.write(bytes('123'));
    out.write(bytes('4567'));
    out.write(bytes('89'));
    expect(out.text()).toBe('12389');
    expect(out.cutAt()).toBe(3);
    expect(out.totalBytes).toBe(9);
    expect(out.truncated).toBe(true);
  });

  it('keeps the last bytes of many small writes', () => {
    const out = new CappedOutput(10);
    for (let i = 0; i < 100; i++) out.write(bytes(String(i % 10)));
    out.write(bytes('END'));
    expect(out.text()).toBe('01234' + '89END');
    expect(out.totalBytes).toBe(103);
  });

  it('has no cut when everything fits, even across the head and the tail', () => {
    const out = new CappedOutput(4);
    out.write(bytes('a€')); // 61 e2 | 82 ac: the character spans the head and the tail
    expect(out.text()).toBe('a€');
    expect(out.cutAt()).toBeUndefined();
    expect(out.truncated).toBe(false);
  });

  it('is empty with nothing written', () => {
    const out = new CappedOutput(5);
    expect(out.text()).toBe('');
    expect(out.totalBytes).toBe(0);
    expect(out.truncated).toBe(false);
  });

  it('decodes a multi-byte character split across two writes', () => {
    const out = new CappedOutput(100);
    const euro = bytes('€'); // e2 82 ac
    out.write(new Uint8Array([0x61, euro[0]!]));
    out.write(new Uint8Array([euro[1]!, euro[2]!, 0x62]));
    expect(out.text()).toBe('a€b');
  });

  it('decodes a four-byte character written one byte at a time', () => {
    const out = new CappedOutput(100);
    for (const byte of bytes('🐍')) out.write(new Uint8Array([byte]));
    expect(out.text()).toBe('🐍');
  });

  it('ends the head with a single replacement character when the cut halves a character', () => {
    const out = new CappedOutput(6);
    out.write(bytes('ab🐍cdefgh')); // the head ends after the first of the snake's four bytes
    expect(out.text()).toBe('ab\uFFFDfgh');
    expect(out.cutAt()).toBe(3);
    expect(out.totalBytes).toBe(12);
    expect(out.truncated).toBe(true);
  });

  it('starts the tail at its first whole character', () => {
    const out = new CappedOutput(6);
    out.write(bytes('abcdef🐍x')); // the tail window holds the snake's last two bytes and x
    expect(out.text()).toBe('abcx');
    expect(out.cutAt()).toBe(3);
  });

  it('ends the head with a single replacement character when the cut falls inside a character split across writes', () => {
    const out = new CappedOutput(6);
    const e = bytes('é'); // c3 a9
    out.write(new Uint8Array([0x61, 0x62, e[0]!]));
    out.write(new Uint8Array([e[1]!, 0x63, 0x64, 0x65, 0x66, 0x67]));
    expect(out.text()).toBe('ab\uFFFDefg');
  });

  it('passes decoded text to the listener as it arrives, never half a character', () => {
    const seen: string[] = [];
    const out = new CappedOutput(100, (text) => seen.push(text));
    const snake = bytes('🐍');
    out.write(new Uint8Array([0x61, snake[0]!, snake[1]!]));
    out.write(new Uint8Array([snake[2]!, snake[3]!]));
    out.write(bytes('b'));
    expect(seen).toEqual(['a', '🐍', 'b']);
  });

  it('passes no text to the listener past the head, only the growing total', () => {
    const seen: [string, number][] = [];
    const out = new CappedOutput(4, (text, total) => seen.push([text, total]));
    out.write(bytes('abcdef'));
    out.write(bytes('ghi'));
    expect(seen).toEqual([
      ['ab', 6],
      ['', 9],
    ]);
  });

  it('gives the same text when read twice', () => {
    const out = new CappedOutput(100);
    out.write(bytes('done'));
    expect(out.text()).toBe('done');
    expect(out.text()).toBe('done');
  });

  it('gives the same text when read twice after the cap cut a character in half', () => {
    const out = new CappedOutput(4);
    out.write(bytes('ab🐍'));
    const first = out.text();
    expect(out.text()).toBe(first);
  });
});
