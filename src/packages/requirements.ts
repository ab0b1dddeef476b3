/**
 * Package requirements as install_packages accepts them: a name with optional extras and version
 * specifiers (`attrs`, `attrs==23.2.0`, `pkg[extra]>=1,<2`). URLs, paths, environment markers,
 * whitespace inside a name and shell syntax are refused: micropip would accept some of them, and
 * none is needed to name a package.
 */

export const MAX_REQUIREMENTS = 50;
const MAX_LENGTH = 200;

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const VERSION = '[A-Za-z0-9][A-Za-z0-9.*+!_-]*';
const SPEC = `(?:~=|===|==|!=|<=|>=|<|>)\\s*${VERSION}`;
const REQUIREMENT = new RegExp(`^(${NAME})(\\[\\s*${NAME}(?:\\s*,\\s*${NAME})*\\s*\\])?\\s*(${SPEC}(?:\\s*,\\s*${SPEC})*)?$`);

export type Requirement = {
  /** As given, trimmed. */
  text: string;
  /** PEP 503 normalised name: lower case, runs of -_. as one dash. */
  name: string;
  /** Version specifiers, e.g. "==23.2.0" or ">=1,<2"; empty when any version will do. */
  specifier: string;
};

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Parse one requirement, or say what is wrong with it. */
export function parseRequirement(raw: string): Requirement | { problem: string } {
  const text = raw.trim();
  if (text.length === 0) return { problem: 'is empty' };
  if (text.length > MAX_LENGTH) return { problem: `is longer than ${MAX_LENGTH} characters` };
  const match = REQUIREMENT.exec(text);
  if (!match) {
    if (/[;&|`$]/.test(text)) return { problem: 'contains shell syntax; only package names with optional versions are accepted' };
    if (/:\/\/|^\.|\/|@/.test(text)) return { problem: 'is a URL or path; only package names with optional versions are accepted' };
    return { problem: 'is not a valid requirement (expected a name with optional extras and versions, like "pkg>=1,<2")' };
  }
  return { text, name: normalizeName(match[1] as string), specifier: (match[3] ?? '').replace(/\s+/g, '') };
}

/** Parse a list; returns the requirements or every problem, each naming its position. */
export function parseRequirements(list: readonly string[]): { requirements: Requirement[] } | { problems: string[] } {
  if (list.length === 0) return { problems: ['packages: the list is empty; name at least one package'] };
  if (list.length > MAX_REQUIREMENTS) {
    return { problems: [`packages: ${list.length} packages in one call; the limit is ${MAX_REQUIREMENTS}`] };
  }
  const problems: string[] = [];
  const requirements: Requirement[] = [];
  const seen = new Set<string>();
  list.forEach((raw, i) => {
    const parsed = parseRequirement(raw);
    if ('problem' in parsed) problems.push(`packages[${i}] '${raw.slice(0, 80)}' ${parsed.problem}`);
    else if (!seen.has(parsed.text)) {
      seen.add(parsed.text);
      requirements.push(parsed);
    }
  });
  return problems.length > 0 ? { problems } : { requirements };
}

/**
 * Whether `version` satisfies `specifier` (only what the lockfile-only path needs: exact pins and
 * simple comparisons of dotted numeric versions). Anything else answers undefined: "cannot tell".
 */
export function satisfies(version: string, specifier: string): boolean | undefined {
  if (!specifier) return true;
  for (const clause of specifier.split(',')) {
    const m = /^(~=|===|==|!=|<=|>=|<|>)(.+)$/.exec(clause);
    if (!m) return undefined;
    const [, op, want] = m as unknown as [string, string, string];
    if (op === '==' || op === '===') {
      if (want.endsWith('.*')) {
        if (!`${version}.`.startsWith(want.slice(0, -1))) return false;
        continue;
      }
      if (compare(version, want) !== 0) return false;
      continue;
    }
    const c = compare(version, want);
    if (c === undefined) return undefined;
    if (op === '!=' && c === 0) return false;
    if (op === '<' && c >= 0) return false;
    if (op === '<=' && c > 0) return false;
    if (op === '>' && c <= 0) return false;
    if (op === '>=' && c < 0) return false;
    if (op === '~=') {
      const parts = want.split('.');
      if (c < 0 || !`${version}.`.startsWith(`${parts.slice(0, -1).join('.')}.`)) return false;
    }
  }
  return true;
}

function compare(a: string, b: string): number | undefined {
  if (!/^\d+(\.\d+)*$/.test(a) || !/^\d+(\.\d+)*$/.test(b)) return a === b ? 0 : undefined;
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
