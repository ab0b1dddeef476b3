import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * README's execute_python examples, run verbatim: each ```json block with a "code" argument and
 * the plain block after it (the answer's text, exactly; a line of only "…" stands for lines left
 * out of the README), and the sessions table (its answers with
 * line breaks folded, as a table cell shows them).
 */

const README = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

type Example = { line: number; args: Record<string, unknown>; answer: string };

function fencedExamples(markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```\n/gm)].map((m) => ({
    lang: m[1],
    body: m[2] ?? '',
    start: m.index,
    end: m.index + m[0].length,
  }));
  const examples: Example[] = [];
  blocks.forEach((block, i) => {
    const next = blocks[i + 1];
    if (block.lang !== 'json' || !block.body.includes('"code"') || !next || next.lang !== '') return;
    if (markdown.slice(block.end, next.start).trim() !== '') return;
    examples.push({
      line: markdown.slice(0, block.start).split('\n').length,
      args: JSON.parse(block.body) as Record<string, unknown>,
      answer: next.body.trimEnd(),
    });
  });
  return examples;
}

/** A pattern for a shown answer whose "…" lines stand for any lines. */
const elided = (answer: string) =>
  new RegExp(`^${answer.split('\n').map((line) => (line === '…' ? '(?:.*\\n)*?' : `${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`)).join('')}$`.replace(/\\n\$$/, '$'));

const unquote = (cell: string) => cell.trim().replace(/^`|`$/g, '');
const tableCells = (line: string) => line.replace(/^\|\s*|\s*\|$/g, '').split(' | ').map(unquote);
const sessionRows = README.split('\n')
  .filter((line) => line.startsWith('| `execute_python` | `{"code"'))
  .map(tableCells);
const createRow = tableCells(README.split('\n').find((line) => line.startsWith('| `create_session` | `{}`')) ?? '');

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe('README examples', () => {
  const examples = fencedExamples(README);

  it('finds the examples to run', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    expect(sessionRows).toHaveLength(2);
  });

  it.each(examples.map((e) => [e.line, e] as const))('the example at line %i answers as shown', async (_line, example) => {
    const r = await server.call('execute_python', example.args);
    const text = r.content[0]?.type === 'text' ? r.content[0].text : '';
    if (example.answer.split('\n').includes('…')) expect(text).toMatch(elided(example.answer));
    else expect(text).toBe(example.answer);
  });

  it('the sessions table answers as shown', async () => {
    const created = await server.call('create_session');
    const id = (created.structuredContent as { session: { sessionId: string } }).session.sessionId;
    expect(created.content[0]?.type === 'text' ? created.content[0].text : '').toBe(createRow[2]?.replaceAll('6f1c…', id));
    for (const [, args = '', answer = ''] of sessionRows) {
      const r = await server.call('execute_python', JSON.parse(args.replace('6f1c…', id)) as Record<string, unknown>);
      const text = r.content[0]?.type === 'text' ? r.content[0].text : '';
      expect(text.replace(/\n/g, ' ')).toBe(answer);
    }
  });
});
