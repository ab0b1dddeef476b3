import type { Logger } from '../logging.js';

/** Longest reason kept: a reason can quote a run's own text (a module name, a message). */
export const MAX_REASON_CHARS = 240;
/** Distinct reasons counted; later ones are counted under OTHER_REASONS. */
export const MAX_REASON_KEYS = 32;
export const OTHER_REASONS = 'other reasons';

/** Bounds a reason where it is taken, so nothing a run wrote grows the server's memory or logs. */
export function boundReason(reason: string): string {
  const text = String(reason);
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}

/** Counts worker replacements by reason (numbers folded, so "exit code 7" and "8" count as one). */
export function createReplacementLog(logger: Logger) {
  let total = 0;
  const byReason = new Map<string, number>();
  return {
    note(reason: string, threadId?: number) {
      const bounded = boundReason(reason);
      total += 1;
      let key = bounded.replace(/\d+/g, 'N');
      if (!byReason.has(key) && byReason.size >= MAX_REASON_KEYS - 1) key = OTHER_REASONS;
      byReason.set(key, (byReason.get(key) ?? 0) + 1);
      logger.info({ threadId, reason: bounded }, 'worker replaced');
    },
    get total() {
      return total;
    },
    byReason: (): Record<string, number> => Object.fromEntries(byReason),
  };
}
