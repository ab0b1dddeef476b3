/**
 * One output stream of an execution (stdout or stderr), kept up to a byte cap: the first half of
 * the cap as it is written, and the last half as a rolling window, because the end of a long
 * output (the last lines, the error) matters as much as its start. Bytes in between are counted,
 * not stored or decoded, so printing 100 MB costs the worker the count and one window.
 */
export class CappedOutput {
  readonly #decoder = new TextDecoder('utf-8');
  readonly #head: Uint8Array[] = [];
  readonly #headMax: number;
  readonly #tailMax: number;
  #headBytes = 0;
  #total = 0;
  /** The tail window: copies of the latest writes past the head, oldest first, `#tailStart` into the first. */
  readonly #tail: Uint8Array[] = [];
  #tailStart = 0;
  #tailBytes = 0;
  readonly #listener: ((text: string, totalBytes: number) => void) | undefined;
  #result: { text: string; cutAt: number | undefined } | undefined;

  /** `listener` hears every write: the text kept in the head ('' past it) and the total so far. */
  constructor(maxBytes: number, listener?: (text: string, totalBytes: number) => void) {
    this.#headMax = Math.ceil(maxBytes / 2);
    this.#tailMax = maxBytes - this.#headMax;
    this.#listener = listener;
  }

  /** Pyodide's raw `write` handler: receives the bytes Python wrote, returns how many it took. */
  readonly write = (bytes: Uint8Array): number => {
    const length = bytes.length;
    this.#total += length;
    const room = this.#headMax - this.#headBytes;
    let text = '';
    let rest = bytes;
    if (room > 0) {
      // Pyodide reuses its write buffer, so what is kept is a copy.
      const part = bytes.slice(0, Math.min(room, length));
      this.#head.push(part);
      this.#headBytes += part.length;
      if (this.#listener) text = this.#decoder.decode(part, { stream: true });
      rest = bytes.subarray(part.length);
    }
    if (rest.length > 0 && this.#tailMax > 0) this.#keepTail(rest);
    this.#listener?.(text, this.#total);
    return length;
  };

  #keepTail(bytes: Uint8Array): void {
    this.#tail.push(bytes.slice(Math.max(0, bytes.length - this.#tailMax)));
    this.#tailBytes += Math.min(bytes.length, this.#tailMax);
    while (this.#tailBytes > this.#tailMax) {
      const first = this.#tail[0] as Uint8Array;
      const over = this.#tailBytes - this.#tailMax;
      const left = first.length - this.#tailStart;
      if (left <= over) {
        this.#tail.shift();
        this.#tailStart = 0;
        this.#tailBytes -= left;
      } else {
        this.#tailStart += over;
        this.#tailBytes -= over;
      }
    }
  }

  /** Total bytes written, including those not kept. */
  get totalBytes(): number {
    return this.#total;
  }

  /** Whether bytes between the head and the tail were dropped. */
  get truncated(): boolean {
    return this.#total > this.#headBytes + this.#tailBytes;
  }

  /** Everything kept, as text. */
  text(): string {
    return this.#decoded().text;
  }

  /**
   * Where in text() the dropped bytes were (undefined when none were). A character the cut split
   * ends the head as one U+FFFD; the tail starts at its first whole character.
   */
  cutAt(): number | undefined {
    return this.#decoded().cutAt;
  }

  #decoded(): { text: string; cutAt: number | undefined } {
    if (this.#result) return this.#result;
    const head = Buffer.concat(this.#head);
    const tail = Buffer.concat(this.#tail.map((chunk, i) => (i === 0 ? chunk.subarray(this.#tailStart) : chunk)));
    if (!this.truncated) {
      this.#result = { text: new TextDecoder('utf-8').decode(Buffer.concat([head, tail])), cutAt: undefined };
    } else {
      let start = 0;
      while (start < tail.length && ((tail[start] as number) & 0xc0) === 0x80) start++;
      const headText = new TextDecoder('utf-8').decode(head);
      this.#result = { text: headText + new TextDecoder('utf-8').decode(tail.subarray(start)), cutAt: headText.length };
    }
    return this.#result;
  }
}
