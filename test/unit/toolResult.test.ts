import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_HINTS } from '../../src/errors.js';
import { errorHeadline, toErrorResult, toToolResult } from '../../src/server/toolResult.js';

describe('errorHeadline', () => {
  it('gives the code, the message and what to do next on one line', () => {
    expect(errorHeadline({ code: 'PYTHON_ERROR', message: 'ZeroDivisionError: division by zero (line 2)' }))
      .toMatchInlineSnapshot(`"PYTHON_ERROR: ZeroDivisionError: division by zero (line 2). Next: fix the Python code using the traceback."`);
  });

  it.each(ERROR_CODES)('ends the %s headline with its hint', (code) => {
    const headline = errorHeadline({ code, message: 'something happened' });
    expect(headline).toBe(`${code}: something happened. Next: ${ERROR_HINTS[code]}.`);
    expect(headline).not.toContain('\n');
  });

  it('keeps code, message and next step on the first line when the message spans lines', () => {
    const headline = errorHeadline({ code: 'PYTHON_ERROR', message: 'ValidationError: 1 validation error\nname\n  Field required' });
    expect(headline.split('\n')[0]).toContain(`Next: ${ERROR_HINTS.PYTHON_ERROR}.`);
  });

  it("uses a failure's own next step (details.next) instead of its code's", () => {
    expect(errorHeadline({ code: 'EXECUTION_TIMEOUT', message: 'Execution exceeded 300 ms', details: { next: 'call again with a larger timeoutMs' } })).toBe(
      'EXECUTION_TIMEOUT: Execution exceeded 300 ms. Next: call again with a larger timeoutMs.',
    );
  });

  it('does not double the full stop when the message already ends with one', () => {
    expect(errorHeadline({ code: 'PYTHON_ERROR', message: 'ValueError: expected a number.' })).not.toContain('..');
  });
});

describe('toToolResult', () => {
  it('gives the text as the only content and the structured form as structuredContent', () => {
    const structured = { status: 'success' as const, installed: ['numpy'] };
    expect(toToolResult('installed numpy', structured)).toStrictEqual({
      content: [{ type: 'text', text: 'installed numpy' }],
      structuredContent: structured,
    });
  });

  it('marks a result whose status is error with isError', () => {
    expect(toToolResult('failed', { status: 'error' as const }).isError).toBe(true);
  });

  it('leaves isError out of a successful result', () => {
    expect('isError' in toToolResult('ok', { status: 'success' as const })).toBe(false);
  });
});

describe('toErrorResult', () => {
  it('fills the tool-specific fields from the empty result and sets status and error', () => {
    const error = { code: 'INVALID_INPUT' as const, message: 'Invalid arguments: packages: expected array' };
    const result = toErrorResult(error, { installed: [], alreadyInstalled: [] });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toStrictEqual({ installed: [], alreadyInstalled: [], status: 'error', error });
  });

  it('gives just the headline when there is no traceback', () => {
    const result = toErrorResult({ code: 'INTERNAL_ERROR', message: 'The server is shutting down' }, {});
    expect(result.content).toMatchInlineSnapshot(`
      [
        {
          "text": "INTERNAL_ERROR: The server is shutting down. Next: retry the call; if it keeps failing, check the server logs.",
          "type": "text",
        },
      ]
    `);
  });

  it('puts the traceback under the headline, after a blank line, without trailing newlines', () => {
    const result = toErrorResult(
      {
        code: 'PYTHON_ERROR',
        message: 'NameError: name x is not defined (line 1)',
        details: {
          traceback: 'Traceback (most recent call last):\n  File "<code>", line 1, in <module>\nNameError: name x is not defined\n\n',
        },
      },
      {},
    );
    const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
    expect(text).toMatchInlineSnapshot(`
      "PYTHON_ERROR: NameError: name x is not defined (line 1). Next: fix the Python code using the traceback.

      Traceback (most recent call last):
        File "<code>", line 1, in <module>
      NameError: name x is not defined"
    `);
  });

  it('ignores a traceback that is not a string', () => {
    const result = toErrorResult({ code: 'PYTHON_ERROR', message: 'x', details: { traceback: ['a', 'b'] } }, {});
    const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
    expect(text).toBe(`PYTHON_ERROR: x. Next: ${ERROR_HINTS.PYTHON_ERROR}.`);
  });

  it('lets the failure override a status field in the empty result', () => {
    const result = toErrorResult({ code: 'INTERNAL_ERROR', message: 'x' }, { status: 'success' });
    expect(result.structuredContent?.status).toBe('error');
  });
});
