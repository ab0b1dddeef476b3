import { describe, expect, it } from 'vitest';
import { formatText, type ExecutePythonOutput } from '../../src/server/tools/executePython.js';

/** A successful run that printed nothing and returned nothing; each test changes what it needs. */
function output(over: Partial<ExecutePythonOutput> = {}): ExecutePythonOutput {
  return {
    status: 'success',
    stdout: '',
    stderr: '',
    result: null,
    durationMs: 3.5,
    stdoutBytes: 0,
    stderrBytes: 0,
    stdoutTruncated: false,
    stderrTruncated: false,
    memoryMb: 30,
    files: [],
    executionId: 'test-id',
    ...over,
  };
}

describe('formatText for a success', () => {
  it('says "(no output)" when the code printed and returned nothing', () => {
    expect(formatText(output())).toBe('(no output)');
  });

  it('gives stdout, stderr and the result in labelled sections, in that order', () => {
    const text = formatText(
      output({ stdout: 'hello\n', stdoutBytes: 6, stderr: 'careful\n', stderrBytes: 8, result: '42' }));
    expect(text).toMatchInlineSnapshot(`
      "[stdout]
      hello

      [stderr]
      careful

      [result]
      42"
    `);
  });

  it('drops one trailing newline of a section and keeps the rest', () => {
    expect(formatText(output({ stdout: 'a\n\n', stdoutBytes: 3 }))).toBe('[stdout]\na\n');
  });

  it('keeps text without a trailing newline as it is', () => {
    expect(formatText(output({ stdout: 'no newline', stdoutBytes: 10 }))).toBe('[stdout]\nno newline');
  });

  it('leaves out empty sections', () => {
    expect(formatText(output({ stderr: 'warning\n', stderrBytes: 8 }))).toBe('[stderr]\nwarning');
  });

  it('shows a result that is an empty string repr', () => {
    expect(formatText(output({ result: "''" }))).toBe("[result]\n''");
  });

  it('puts the note on a cut after the sections, once', () => {
    const text = formatText(
      output({ stdout: 'head\n[… 10 bytes of stdout cut here …]\ntail\n', stdoutBytes: 20, stdoutTruncated: true, result: '1' }),
      '[output cut]',
    );
    expect(text).toMatchInlineSnapshot(`
      "[stdout]
      head
      [… 10 bytes of stdout cut here …]
      tail

      [result]
      1

      [output cut]"
    `);
  });
});

describe('formatText for a failure', () => {
  it('starts with the headline and what to do next, then the traceback, then the output', () => {
    const text = formatText(
      output({
        status: 'error',
        error: {
          code: 'PYTHON_ERROR',
          message: 'ZeroDivisionError: division by zero (line 2)',
          details: {
            type: 'ZeroDivisionError',
            line: 2,
            traceback:
              'Traceback (most recent call last):\n  File "<code>", line 2, in <module>\n    1 / 0\nZeroDivisionError: division by zero\n',
          },
        },
        stdout: 'before\n',
        stdoutBytes: 7,
      }));
    expect(text).toMatchInlineSnapshot(`
      "PYTHON_ERROR: ZeroDivisionError: division by zero (line 2). Next: fix the Python code using the traceback.

      Traceback (most recent call last):
        File "<code>", line 2, in <module>
          1 / 0
      ZeroDivisionError: division by zero

      [stdout]
      before"
    `);
  });

  it('gives only the headline when there is no traceback and no output', () => {
    const text = formatText(
      output({ status: 'error', error: { code: 'EXECUTION_TIMEOUT', message: 'Execution timed out' }, memoryMb: undefined }));
    expect(text).toMatchInlineSnapshot(`"EXECUTION_TIMEOUT: Execution timed out. Next: make the work smaller or faster, or raise EXECUTION_TIMEOUT_MS."`);
  });

  it('leaves out a traceback made only of whitespace', () => {
    const text = formatText(
      output({ status: 'error', error: { code: 'PYTHON_ERROR', message: 'x', details: { traceback: ' \n' } } }));
    expect(text).not.toContain('\n');
  });

  it('never says "(no output)" for a failure', () => {
    const text = formatText(output({ status: 'error', error: { code: 'INTERNAL_ERROR', message: 'crashed' } }));
    expect(text).not.toContain('(no output)');
  });
});
