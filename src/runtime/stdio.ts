import type { PyodideAPI } from 'pyodide';

/**
 * The interpreter's standard streams, set once per worker and pointed at each run's capture and
 * input. Setting one through Pyodide closes and reopens file descriptors 0–2 (~0.1 ms each time,
 * three per run when every run set its own); here that happens once per reset instead (refresh),
 * which is also what puts back descriptors 0–2 a run closed or replaced (os.dup2).
 */

type Writer = (bytes: Uint8Array) => number;

export type RunStreams = { stdout: Writer; stderr: Writer; stdin: readonly string[] };

export type Stdio = {
  /** Send the streams to this run's capture, and feed it these lines of input. */
  attach(run: RunStreams): void;
  /** Between runs: output goes nowhere, input is at its end. */
  detach(): void;
  /** Close and reopen descriptors 0–2 on these streams. */
  refresh(): void;
};

const discard: Writer = (bytes) => bytes.length;

export function createStdio(py: PyodideAPI): Stdio {
  let out = discard;
  let err = discard;
  let input = new LineInput([]);
  const stdout = { write: (bytes: Uint8Array) => out(bytes), isatty: false };
  const stderr = { write: (bytes: Uint8Array) => err(bytes), isatty: false };
  const stdin = { read: (buffer: Uint8Array) => input.read(buffer), isatty: false };
  py.setStdout(stdout);
  py.setStderr(stderr);
  py.setStdin(stdin);
  return {
    attach(run) {
      out = run.stdout;
      err = run.stderr;
      input = new LineInput(run.stdin);
    },
    detach() {
      out = discard;
      err = discard;
      input = new LineInput([]);
    },
    refresh() {
      py.setStdout(stdout); // reopens 0–2 (the input's state lives in LineInput, not the stream)
    },
  };
}

const encoder = new TextEncoder();

/**
 * A run's input, one line per read like a terminal (Pyodide's own `stdin` handler does the same):
 * each line ends with a newline (one is added if missing); 0 bytes read is the end of input.
 */
export class LineInput {
  #next = 0;
  #pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly lines: readonly string[]) {}

  read(buffer: Uint8Array): number {
    if (this.#pending.length === 0) {
      if (this.#next >= this.lines.length) return 0;
      const line = this.lines[this.#next++] as string;
      this.#pending = encoder.encode(line.endsWith('\n') ? line : `${line}\n`);
    }
    const n = Math.min(buffer.length, this.#pending.length);
    buffer.set(this.#pending.subarray(0, n));
    this.#pending = this.#pending.subarray(n);
    return n;
  }
}
