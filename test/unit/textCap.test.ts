import { describe, expect, it } from 'vitest';
import { capText } from '../../src/runtime/textCap.js';

describe('capText', () => {
  it('keeps a text the runner already cut, with its note', () => {
    const cut = `${'a'.repeat(100)}... [900 more characters cut]`;
    expect(capText(cut, 100)).toBe(cut);
  });

  it('cuts a text longer than the limit and its note to the limit, saying how much was cut', () => {
    expect(capText('b'.repeat(1000), 100)).toBe(`${'b'.repeat(100)}... [900 more characters cut]`);
  });

  it('leaves a short text as it is', () => {
    expect(capText('short', 100)).toBe('short');
  });
});
