/**
 * A task's control block: an Int32Array over a SharedArrayBuffer made per task, so the main thread
 * can stop Python while the worker thread is busy running it (no message could get through).
 */
export const CONTROL = {
  /** Pyodide's interrupt buffer: the main thread writes SIGINT here to raise KeyboardInterrupt. */
  INTERRUPT: 0,
  /**
   * Where the task is: QUEUED → RUNNING (user code started) → CLEANING (its result is out, the
   * worker is putting the interpreter back) → DONE.
   */
  STATE: 1,
  /** Why the main thread interrupted: TIMEOUT or CANCELLED. */
  REASON: 2,
  /**
   * Set by the main thread once it has taken the result. The worker starts its reset only then
   * (or after RESET_WAIT_MS): started at once, the reset kept the woken main thread queued
   * behind it on the worker's core, ~2–2.5 ms per call on the 2-core VM when calls come apart.
   */
  TAKEN: 3,
  LENGTH: 4,
} as const;

export const TASK_STATE = { QUEUED: 0, RUNNING: 1, DONE: 2, CLEANING: 3 } as const;
export const STOP_REASON = { NONE: 0, TIMEOUT: 1, CANCELLED: 2 } as const;
export const SIGINT = 2;
/** The longest a worker waits for TAKEN before it resets all the same. */
export const RESET_WAIT_MS = 5;

/** The main thread has the result: the worker may start its reset. */
export function markTaken(control: Int32Array): void {
  Atomics.store(control, CONTROL.TAKEN, 1);
  Atomics.notify(control, CONTROL.TAKEN);
}

export function createControlBlock(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CONTROL.LENGTH * Int32Array.BYTES_PER_ELEMENT));
}

/** Ask the worker to stop: wakes an interruptible sleep and raises KeyboardInterrupt in Python. */
export function requestStop(control: Int32Array, reason: number): void {
  if (Atomics.compareExchange(control, CONTROL.REASON, STOP_REASON.NONE, reason) !== STOP_REASON.NONE) return;
  Atomics.notify(control, CONTROL.REASON);
  Atomics.store(control, CONTROL.INTERRUPT, SIGINT);
  Atomics.notify(control, CONTROL.INTERRUPT);
}
