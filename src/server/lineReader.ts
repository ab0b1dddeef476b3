/**
 * Splits a byte stream into newline-delimited messages in time linear in its size: each byte is
 * scanned for '\n' once and copied at most once (the SDK's reader concatenates the whole buffer
 * and searches it again on every chunk, which grows with the square of a message's size). A
 * message longer than `maxBytes` is not kept: only its first and last bytes, enough to read its
 * id and method, and its length, so the caller can answer it and read on.
 */

export type Frame = { kind: 'message'; text: string } | { kind: 'tooLarge'; bytes: number; head: string; tail: string };

/** How much of an over-long message is kept at each end. */
const EDGE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

export function createLineReader(maxBytes: number): { push(chunk: Buffer): Frame[] } {
  let parts: Buffer[] = [];
  let size = 0;
  // Set once the message in progress has passed maxBytes.
  let head: Buffer | undefined;
  let tail: Buffer = Buffer.alloc(0);

  const take = (part: Buffer) => {
    if (part.length === 0) return;
    size += part.length;
    if (head) {
      tail = lastBytes(tail, part);
      return;
    }
    parts.push(part);
    if (size > maxBytes) {
      head = Buffer.concat(parts, Math.min(size, EDGE_BYTES));
      tail = parts.reduce<Buffer>((acc, p) => lastBytes(acc, p), Buffer.alloc(0));
      parts = [];
    }
  };

  const finish = (): Frame | undefined => {
    const frame: Frame | undefined = head
      ? { kind: 'tooLarge', bytes: size, head: head.toString('utf8'), tail: tail.toString('utf8') }
      : size > 0
        ? { kind: 'message', text: Buffer.concat(parts, size).toString('utf8').replace(/\r$/, '') }
        : undefined;
    parts = [];
    size = 0;
    head = undefined;
    tail = Buffer.alloc(0);
    return frame;
  };

  return {
    push(chunk) {
      const frames: Frame[] = [];
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE, start); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        take(chunk.subarray(start, end));
        const frame = finish();
        if (frame) frames.push(frame);
        start = end + 1;
      }
      // A chunk's bytes may be a view of a pooled buffer the stream reuses: keep a copy.
      if (start < chunk.length) take(Buffer.from(chunk.subarray(start)));
      return frames;
    },
  };
}

function lastBytes(kept: Buffer, part: Buffer): Buffer {
  if (part.length >= EDGE_BYTES) return Buffer.from(part.subarray(part.length - EDGE_BYTES));
  const joined = Buffer.concat([kept, part]);
  return joined.length > EDGE_BYTES ? joined.subarray(joined.length - EDGE_BYTES) : joined;
}
