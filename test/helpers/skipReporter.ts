import type { Reporter, TestCase, TestModule, TestSuite, Vitest } from 'vitest/node';
import { SKIP_MARK } from './skips.js';

/**
 * Lists every skipped test at the end of the run with its reason (from describeUnless, or a
 * ctx.skip(note)), beside the default reporter, which only counts them. A skip with no reason is
 * listed as such, so a new one cannot hide; except when the run is filtered by name (-t), where
 * everything filtered out counts as skipped too and only reasoned skips are worth listing.
 */
export default class SkipReporter implements Reporter {
  private filtered = false;

  onInit(vitest: Vitest): void {
    this.filtered = vitest.config.testNamePattern !== undefined;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, string[]>();
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        if (test.options.mode === 'todo') continue;
        const reason = reasonOf(test) ?? (this.filtered ? undefined : 'no reason given (use describeUnless from test/helpers/skips.ts)');
        if (reason === undefined) continue;
        const list = byReason.get(reason) ?? [];
        const name = test.fullName.split(' > ').map((part) => part.replace(SKIP_MARK, '').trim());
        list.push(`${module.relativeModuleId} > ${name.join(' > ')}`);
        byReason.set(reason, list);
      }
    }
    if (byReason.size === 0) return;
    const count = [...byReason.values()].reduce((n, l) => n + l.length, 0);
    const lines = [`\n Skipped tests (${count}), by reason:`];
    for (const [reason, tests] of byReason) {
      lines.push(`   ${reason}:`);
      for (const name of tests) lines.push(`     - ${name}`);
    }
    process.stdout.write(`${lines.join('\n')}\n\n`);
  }
}

function reasonOf(test: TestCase): string | undefined {
  const result = test.result();
  if (result.state === 'skipped' && result.note) return result.note;
  for (let parent: TestCase | TestSuite | TestModule = test; parent.type !== 'module'; parent = parent.parent) {
    const match = SKIP_MARK.exec(parent.name);
    if (match?.[1]) return match[1];
  }
  return undefined;
}
