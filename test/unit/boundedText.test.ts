import { describe, expect, it } from 'vitest';
import { boundText, createReasonCounter, MAX_REASON_CHARS, MAX_REASON_KEYS, OTHER_REASON } from '../../src/boundedText.js';

describe('boundText', () => {
  it('keeps a short text as it is', () => {
    expect(boundText('the code loaded a native library')).toBe('the code loaded a native library');
  });

  it('cuts a text a run made huge to the bound, saying how long it was', () => {
    const text = boundText(`the interpreter failed: ModuleNotFoundError: ${'m'.repeat(60 * 1024 * 1024)}`);
    expect(text.length).toBe(MAX_REASON_CHARS);
    expect(text).toMatch(/^the interpreter failed: ModuleNotFoundError: m+… \(62914605 characters\)$/);
  });

  it('never calls an object’s own toString', () => {
    let called = false;
    const hostile = {
      toString() {
        called = true;
        return 'x'.repeat(1000);
      },
    };
    expect(boundText(hostile)).toBe('[object]');
    expect(called).toBe(false);
  });
});

describe('createReasonCounter', () => {
  it('counts each reason under its own key', () => {
    const counter = createReasonCounter();
    counter.add('served N executions');
    counter.add('served N executions');
    counter.add('out of memory');
    expect(counter.snapshot()).toEqual({ 'served N executions': 2, 'out of memory': 1 });
  });

  it('holds at most MAX_REASON_KEYS keys; later new reasons count as "other"', () => {
    const counter = createReasonCounter();
    for (let i = 0; i < 1000; i += 1) counter.add(`the interpreter failed: ${'x'.repeat(i)}`);
    const counts = counter.snapshot();
    expect(Object.keys(counts)).toHaveLength(MAX_REASON_KEYS);
    expect(counts[OTHER_REASON]).toBe(1000 - (MAX_REASON_KEYS - 1));
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Math.max(...Object.keys(counts).map((k) => k.length))).toBeLessThanOrEqual(MAX_REASON_CHARS);
  });

  it('still counts a reason it already holds under its own key once full', () => {
    const counter = createReasonCounter(3);
    counter.add('a');
    counter.add('b');
    counter.add('c');
    counter.add('a');
    expect(counter.snapshot()).toEqual({ a: 2, b: 1, [OTHER_REASON]: 1 });
  });
});
