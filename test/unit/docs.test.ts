import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigSchema, defaultCacheDir } from '../../src/config.js';
import { ERROR_CODES } from '../../src/errors.js';

/**
 * README's settings and error-code tables against the code they document, the way fastify checks
 * its docs: every variable and code is in its table, the table names nothing else, and the
 * documented defaults are the schema's.
 */

const README = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

type Row = { name: string; cells: string[] };

/** The body of the `## heading` section, up to the next heading of level 2 or above. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((line) => line.trim() === `## ${heading}`);
  if (start === -1) throw new Error(`README has no "## ${heading}" section`);
  const end = lines.findIndex((line, i) => i > start && /^#{1,2}\s/.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** The rows of the first table in text, after its header; the first cell must be one `name`. */
function tableRows(text: string): Row[] {
  const lines = text.split('\n').map((line) => line.trim());
  const first = lines.findIndex((line) => line.startsWith('|'));
  if (first === -1) throw new Error('no table found');
  const table: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    table.push(line);
  }
  const [, separator, ...body] = table;
  if (!separator || !/^\|(\s*:?-+:?\s*\|)+$/.test(separator)) throw new Error(`not a table separator: ${separator}`);
  return body.map((line) => {
    const cells = line
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    const name = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (!name) throw new Error(`first column is not one name in backticks: ${line}`);
    return { name, cells };
  });
}

/** A cell that is exactly one value in backticks, or undefined for prose such as "(none)". */
function codeValue(cell: string | undefined): string | undefined {
  return /^`([^`]*)`$/.exec(cell ?? '')?.[1];
}

const settings = tableRows(section(README, 'Settings'));
const errorCodes = tableRows(section(README, 'Error codes'));
const defaults = ConfigSchema.parse({}) as Record<string, unknown>;

describe('README settings table', () => {
  it('documents every variable the configuration reads', () => {
    const documented = new Set(settings.map((row) => row.name));
    expect(CONFIG_VARIABLES.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents no variable the configuration does not read', () => {
    const known = new Set<string>(CONFIG_VARIABLES);
    expect(settings.map((row) => row.name).filter((name) => !known.has(name))).toEqual([]);
  });

  it('lists each variable once, in the order the schema declares them', () => {
    expect(settings.map((row) => row.name)).toEqual([...CONFIG_VARIABLES]);
  });

  it.each(CONFIG_VARIABLES.map((name) => [name]))('gives the schema default of %s', (name) => {
    const row = settings.find((r) => r.name === name);
    const documented = codeValue(row?.cells[1]);
    const actual = defaults[name];
    if (actual === undefined || (Array.isArray(actual) && actual.length === 0)) {
      // No default value: the table explains what happens instead, in prose.
      expect(documented, `${name} has no default, but README gives \`${documented}\``).toBeUndefined();
      expect(row?.cells[1]).toMatch(/\S/);
    } else {
      expect(documented, `${name}: README's default should be one value in backticks`).toBe(String(actual));
    }
  });

  it('names the Linux cache directory that defaultCacheDir gives', () => {
    const row = settings.find((r) => r.name === 'PACKAGE_CACHE_DIR');
    const linuxDir = defaultCacheDir({ HOME: '~' }, 'linux');
    expect(row?.cells[1]).toContain(`\`${linuxDir}\``);
  });

  it('has a meaning for every variable', () => {
    expect(settings.filter((row) => !row.cells[2]).map((row) => row.name)).toEqual([]);
  });
});

describe('README error codes table', () => {
  it('documents every error code', () => {
    const documented = new Set(errorCodes.map((row) => row.name));
    expect(ERROR_CODES.filter((code) => !documented.has(code))).toEqual([]);
  });

  it('documents no error code that does not exist', () => {
    const known = new Set<string>(ERROR_CODES);
    expect(errorCodes.map((row) => row.name).filter((code) => !known.has(code))).toEqual([]);
  });

  it('lists each code once, in the order ERROR_CODES declares them', () => {
    expect(errorCodes.map((row) => row.name)).toEqual([...ERROR_CODES]);
  });

  it('says when each code happens', () => {
    expect(errorCodes.filter((row) => !row.cells[1]).map((row) => row.name)).toEqual([]);
  });
});

describe('the README table parser', () => {
  it('reads rows whose cells contain backticks and escaped pipes', () => {
    const rows = tableRows('| name | default |\n|---|:---:|\n| `A_B` | `x\\|y` |\n| `C` | (none) |\n\nafter');
    expect(rows).toEqual([
      { name: 'A_B', cells: ['`A_B`', '`x\\|y`'] },
      { name: 'C', cells: ['`C`', '(none)'] },
    ]);
  });

  it('refuses a row whose first column is not a name in backticks', () => {
    expect(() => tableRows('| name | x |\n|---|---|\n| NAME | 1 |')).toThrow(/backticks/);
  });

  it('stops a section at the next heading', () => {
    expect(section('## A\none\n### sub\ntwo\n## B\nthree', 'A')).toBe('one\n### sub\ntwo');
  });
});
