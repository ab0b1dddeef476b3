import { boundText, createReasonCounter } from '../boundedText.js';
import type { Logger } from '../logging.js';

/**
 * Counts worker replacements by reason (numbers folded, so "exit code 7" and "8" count as one).
 * A reason can quote a run's own text, so it is bounded where it is taken (boundedText.ts).
 */
export function createReplacementLog(logger: Logger) {
  let total = 0;
  const byReason = createReasonCounter();
  return {
    note(reason: string, threadId?: number) {
      const bounded = boundText(reason);
      total += 1;
      byReason.add(bounded.replace(/\d+/g, 'N'));
      logger.info({ threadId, reason: bounded }, 'worker replaced');
    },
    get total() {
      return total;
    },
    byReason: () => byReason.snapshot(),
  };
}
