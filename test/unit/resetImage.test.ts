import { describe, expect, it } from 'vitest';
import { createImage } from '../../src/runtime/reset.js';

const PAGE = 4096;
const KIB64 = 16 * PAGE;

/** Deterministic bytes, so a failure can be re-run. */
function fillPseudoRandom(bytes: Uint8Array, seed: number): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes.length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
}

/**
 * A snapshot's memory: data, a long zero run (a stack's unused depth), more data, a zero tail;
 * then the memory at the reset point, which differs from it in scattered pages, in whole blocks,
 * in pages of the zero run, and is longer (the memory grew before the reset point).
 */
function memories() {
  const base = new Uint8Array(40 * KIB64);
  fillPseudoRandom(base, 1);
  base.fill(0, 6 * KIB64 + 3 * PAGE, 20 * KIB64);
  base.fill(0, 36 * KIB64);
  const heap = new Uint8Array(44 * KIB64);
  heap.set(base);
  fillPseudoRandom(heap.subarray(2 * KIB64 + PAGE, 2 * KIB64 + 3 * PAGE), 2); // pages within a block
  fillPseudoRandom(heap.subarray(24 * KIB64, 26 * KIB64), 3); // whole blocks
  fillPseudoRandom(heap.subarray(10 * KIB64, 10 * KIB64 + PAGE), 4); // a page of the zero run
  heap.fill(0, 30 * KIB64, 30 * KIB64 + PAGE); // data turned to zero
  fillPseudoRandom(heap.subarray(40 * KIB64 + 5), 5); // past the snapshot's end
  return { base, heap };
}

/** What a run does to the memory: writes everywhere, and sometimes grows it. */
function scribble(memory: Uint8Array, seed: number): void {
  fillPseudoRandom(memory, seed);
  memory.fill(0, 3 * KIB64, 5 * KIB64);
}

describe('reset image', () => {
  it('writes the memory of the reset point back, byte for byte, call after call', () => {
    const { base, heap } = memories();
    const expected = heap.slice();
    const image = createImage(base, heap);
    expect(image.length).toBe(heap.length);
    // The first write takes the snapshot and the differing pages; later ones, the image's own copy.
    for (let round = 0; round < 4; round += 1) {
      scribble(heap, 100 + round);
      image.writeTo(heap);
      expect(Buffer.compare(heap, expected)).toBe(0);
    }
  });

  it('zeroes memory that a run grew past the reset point', () => {
    const { base, heap } = memories();
    const expected = heap.slice();
    const image = createImage(base, heap);
    for (let round = 0; round < 3; round += 1) {
      const grown = new Uint8Array(heap.length + (round + 1) * KIB64);
      grown.set(heap);
      scribble(grown, 200 + round);
      image.writeTo(grown);
      expect(Buffer.compare(grown.subarray(0, heap.length), expected)).toBe(0);
      expect(grown.subarray(heap.length).every((b) => b === 0)).toBe(true);
    }
  });

  it('is taken again from a later state (after an install)', () => {
    const { base, heap } = memories();
    createImage(base, heap).writeTo(heap);
    fillPseudoRandom(heap.subarray(12 * KIB64, 13 * KIB64), 6);
    const expected = heap.slice();
    const image = createImage(base, heap);
    for (let round = 0; round < 2; round += 1) {
      scribble(heap, 300 + round);
      image.writeTo(heap);
      expect(Buffer.compare(heap, expected)).toBe(0);
    }
  });
});
