/**
 * One output stream of an execution (stdout or stderr), kept up to a byte cap. Bytes past the cap
 * are counted, not stored or decoded, so printing 100 MB costs the server nothing but the count.
 */
export class CappedOutput {
  readonly #decoder = new TextDecoder('utf-8');
  readonly #chunks: string[] = [];
  #kept = 0;
  #total = 0;
  readonly #listener: ((text: string, totalBytes: number) => void) | undefined;

  /** `listener` hears every write: the text kept ('' past the cap) and the total so far. */
  constructor(
    private readonly maxBytes: number,
    listener?: (text: string, totalBytes: number) => void,
  ) {
    this.#listener = listener;
  }

  /** Pyodide's raw `write` handler: receives the bytes Python wrote, returns how many it took. */
  readonly write = (bytes: Uint8Array): number => {
    const length = bytes.length;
    this.#total += length;
    const room = this.maxBytes - this.#kept;
    let text = '';
    if (room > 0) {
      const part = length <= room ? bytes : bytes.subarray(0, room);
      this.#kept += part.length;
      text = this.#decoder.decode(part, { stream: true });
      this.#chunks.push(text);
    }
    this.#listener?.(text, this.#total);
    return length;
  };

  /** Total bytes written, including those past the cap. */
  get totalBytes(): number {
    return this.#total;
  }

  get truncated(): boolean {
    return this.#total > this.#kept;
  }

  /** The kept text; a character the cap cut in half ends it as U+FFFD. */
  text(): string {
    if (this.#tail === undefined) this.#tail = this.#decoder.decode();
    return this.#chunks.join('') + this.#tail;
  }

  #tail: string | undefined;
}
