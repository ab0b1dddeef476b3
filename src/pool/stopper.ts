import { CONTROL, SIGINT, STOP_REASON, requestStop } from './messages.js';

/**
 * Stopping a run takes two steps. First a SIGINT through the task's shared control block raises
 * KeyboardInterrupt inside Python, so the worker and its loaded packages survive. If Python has not
 * returned after a grace period (a single long C call, code that swallows the interrupt), the task
 * is aborted: Piscina terminates that worker and the pool starts a replacement in the background.
 */

/** How long Python gets to honour an interrupt before its worker is terminated. */
export const STOP_GRACE_MS = 1000;
/**
 * When the interrupt is sent again: soon after the first (Pyodide reads and then clears the
 * interrupt word without an atomic exchange, so a signal written in between is lost: measured,
 * about one in five), then steadily, for code that catches a KeyboardInterrupt and carries on.
 */
const INTERRUPT_RESEND_MS = [2, 10, 30];
const INTERRUPT_REPEAT_MS = 100;

export type Stopper = {
  /** Interrupt the run, then abort its task (terminating the worker) after the grace period. */
  stop(reason: number): void;
  /** Whether the grace period ran out and the task was aborted. */
  readonly hardStopped: boolean;
  /** Cancel pending resends and the abort (the run has answered). */
  clear(): void;
};

export function createStopper(control: Int32Array, abort: AbortController): Stopper {
  const timers: NodeJS.Timeout[] = [];
  let hardStopped = false;
  const resend = () => {
    Atomics.store(control, CONTROL.INTERRUPT, SIGINT);
    Atomics.notify(control, CONTROL.INTERRUPT);
  };
  return {
    stop(reason) {
      requestStop(control, reason);
      for (const ms of INTERRUPT_RESEND_MS) timers.push(setTimeout(resend, ms));
      timers.push(setInterval(resend, INTERRUPT_REPEAT_MS));
      timers.push(
        setTimeout(() => {
          hardStopped = true;
          abort.abort(reason === STOP_REASON.TIMEOUT ? 'timeout' : 'cancelled');
        }, STOP_GRACE_MS),
      );
    },
    get hardStopped() {
      return hardStopped;
    },
    clear: () => timers.splice(0).forEach((t) => clearTimeout(t)),
  };
}
