/**
 * Bounds for what a run can put into the server's own records: a worker's retirement reason, a
 * start error, a log line. A run chooses that text (a module name, an exception message), so it is
 * cut where it is taken; a 60 MiB module name once became a reason kept for good and sent in every
 * health_check.
 */

/** The longest reason, name or log text taken from a run, in characters. */
export const MAX_REASON_CHARS = 240;

/** At most this many distinct keys in a count by reason; the rest are counted under OTHER_REASON. */
export const MAX_REASON_KEYS = 32;
export const OTHER_REASON = 'other';

/** `value` as text of at most `max` characters (a longer one is cut and says how long it was). */
export function boundText(value: unknown, max = MAX_REASON_CHARS): string {
  // Only a primitive is turned into text: an object's toString is code of its own.
  const text = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? '[object]' : String(value);
  if (text.length <= max) return text;
  const note = `… (${text.length} characters)`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/** Counts by reason with a bounded number of keys: past `maxKeys`, new reasons count as "other". */
export function createReasonCounter(maxKeys = MAX_REASON_KEYS): {
  add(reason: string): void;
  snapshot(): Record<string, number>;
} {
  const counts = new Map<string, number>();
  return {
    add(reason) {
      const key = boundText(reason);
      const bucket = counts.has(key) || counts.size < maxKeys - 1 ? key : OTHER_REASON;
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    },
    snapshot: () => Object.fromEntries(counts),
  };
}
