import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config.js';
import { invalidInput } from '../../src/server/toolDefinition.js';
import { createExecutePythonInputSchema } from '../../src/server/tools/executePython.js';
import { InstallPackagesInputSchema } from '../../src/server/tools/installPackages.js';

const config = loadConfig({ HOME: '/home/tester', MAX_CODE_BYTES: '64', MAX_INPUT_BYTES: '16' });
const executeInput = createExecutePythonInputSchema(config);

/** The INVALID_INPUT error for args, or a failure if the schema accepts them. */
function problemsWith(schema: z.ZodType, args: unknown) {
  const parsed = schema.safeParse(args);
  if (parsed.success) throw new Error(`the schema accepted ${JSON.stringify(args)}`);
  return invalidInput(parsed.error);
}

describe('invalidInput', () => {
  it('is an INVALID_INPUT error listing its problems in details', () => {
    const error = problemsWith(executeInput, { code: 'print(1)', timeoutMs: -1 });
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.details).toEqual({ problems: [expect.stringMatching(/^timeoutMs: /)] });
  });

  it('names an array element by its index', () => {
    const error = problemsWith(executeInput, { code: 'input()', inputData: ['a', 'b', 3] });
    expect(error.details?.problems).toEqual(['inputData[2]: expected a string (one line of input)']);
  });

  it('names a nested field with dots and indexes', () => {
    const schema = z.object({ options: z.object({ env: z.array(z.object({ name: z.string() })) }) });
    const error = problemsWith(schema, { options: { env: [{ name: 'A' }, { name: 7 }] } });
    expect(error.details?.problems).toEqual(['options.env[1].name: expected string, received number']);
  });

  it('names unknown arguments and the ones the tool accepts', () => {
    const parsed = executeInput.safeParse({ code: 'x = 1', language: 'python' });
    if (parsed.success) throw new Error('accepted an unknown argument');
    expect(invalidInput(parsed.error, Object.keys(executeInput.shape)).message).toMatchInlineSnapshot(
      `"Invalid arguments: unknown argument 'language' (accepted: code, inputData, files, sessionId, timeoutMs, fullOutput)"`,
    );
  });

  it('says "arguments" for a problem with the arguments as a whole', () => {
    expect(problemsWith(executeInput, 'not an object').message).toMatch(/^Invalid arguments: arguments: expected object/);
  });

  it('reports missing code', () => {
    expect(problemsWith(executeInput, {}).message).toMatchInlineSnapshot(`"Invalid arguments: code: expected a string of Python code"`);
  });

  it('reports code that is only whitespace as empty', () => {
    expect(problemsWith(executeInput, { code: '  \n ' }).message).toMatchInlineSnapshot(`"Invalid arguments: code: must not be empty"`);
  });

  it('reports code over MAX_CODE_BYTES with its size and the limit', () => {
    expect(problemsWith(executeInput, { code: `# ${'é'.repeat(40)}` }).message).toMatchInlineSnapshot(`"Invalid arguments: code: is 82 bytes; the limit is 64 (MAX_CODE_BYTES)"`);
  });

  it('reports inputData over MAX_INPUT_BYTES', () => {
    expect(problemsWith(executeInput, { code: 'input()', inputData: ['0123456789', '0123456789'] }).message)
      .toMatchInlineSnapshot(`"Invalid arguments: inputData: is larger than 16 bytes in all (MAX_INPUT_BYTES)"`);
  });

  it('joins several problems with semicolons, in the order of the fields', () => {
    const error = problemsWith(executeInput, { code: 42, inputData: 'abc', timeoutMs: 1.5 });
    expect(error.message).toMatchInlineSnapshot(`"Invalid arguments: code: expected a string of Python code; inputData: expected array, received string; timeoutMs: must be a whole number of milliseconds"`);
    expect(error.details?.problems).toHaveLength(3);
  });

  it('reports a wrong type for install_packages packages', () => {
    expect(problemsWith(InstallPackagesInputSchema, { packages: 'numpy' }).message).toMatchInlineSnapshot(`"Invalid arguments: packages: expected array, received string"`);
  });
});
