import { describe } from 'vitest';

/**
 * Skipping with a reason. A skipped suite carries its reason in its name, in the form
 * `(skipped: …)`, which test/helpers/skipReporter.ts prints at the end of every run: a skip is
 * never silent, and the output says what to provide to run it.
 */

export const SKIP_MARK = /\(skipped: (.+)\)$/;

/** `describe` when `missing` is undefined; otherwise skipped, with `missing` as the reason. */
export function describeUnless(missing: string | undefined, name: string, fn: () => void): void {
  if (missing === undefined) describe(name, fn);
  else describe.skip(`${name} (skipped: ${missing})`, fn);
}
