/**
 * What of an execution's output goes into one answer. The worker keeps up to MAX_OUTPUT_BYTES of
 * each stream (its first and last halves); an answer holds at most OUTPUT_BUDGET_BYTES of stdout,
 * stderr and the result together, each cut to its head and tail with a mark that counts the bytes
 * left out, because a model needs the start and the end of a long output, and no client shows a
 * megabyte (see README, "Output size").
 */

/** A stream as the worker kept it: `cutAt` is where in `text` it dropped bytes, if it did. */
export type Captured = { text: string; bytes: number; truncated: boolean; cutAt?: number | undefined };

/** A stream as the answer shows it: `text` holds the mark where bytes were left out. */
export type Shown = { text: string; cutBytes: number };

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/**
 * Split `budget` bytes between parts of the given sizes: each gets what it needs when that fits,
 * and what the small ones leave is shared evenly by the large ones (water-filling).
 */
export function shareBudget(sizes: readonly number[], budget: number): number[] {
  const shares = sizes.map(() => 0);
  let left = Math.max(0, budget);
  const order = sizes.map((size, i) => ({ size, i })).sort((a, b) => a.size - b.size);
  order.forEach(({ size, i }, k) => {
    const fair = Math.floor(left / (order.length - k));
    shares[i] = Math.min(size, fair);
    left -= shares[i] as number;
  });
  return shares;
}

/** The first at most `n` bytes of `b`, ending on a whole character, and at a line end if one is near. */
function headOf(b: Buffer, n: number): Buffer {
  if (n >= b.length) return b;
  let end = n;
  while (end > 0 && ((b[end] as number) & 0xc0) === 0x80) end--;
  const newline = b.lastIndexOf(0x0a, end - 1);
  if (newline >= 0 && end - newline <= 200) end = newline + 1;
  return b.subarray(0, end);
}

/** The last at most `n` bytes of `b`, starting on a whole character, and after a line end if one is near. */
function tailOf(b: Buffer, n: number): Buffer {
  if (n >= b.length) return b;
  let start = b.length - n;
  while (start < b.length && ((b[start] as number) & 0xc0) === 0x80) start++;
  const newline = b.indexOf(0x0a, start);
  const atLineStart = start > 0 && b[start - 1] === 0x0a;
  if (!atLineStart && newline >= 0 && newline + 1 - start <= 200 && newline + 1 < b.length) start = newline + 1;
  return b.subarray(start);
}

export const cutMark = (name: string, bytes: number) => `[… ${bytes} bytes of ${name} cut here …]`;

/** Fit one stream into `room` bytes: whole if it fits, else its head and tail around a mark. */
export function fitStream(name: string, stream: Captured, room: number): Shown {
  const kept = stream.cutAt === undefined ? [stream.text, ''] : [stream.text.slice(0, stream.cutAt), stream.text.slice(stream.cutAt)];
  const head = utf8(kept[0] as string);
  const tail = utf8(kept[1] as string);
  const keptBytes = head.length + tail.length;
  if (keptBytes <= room && stream.cutAt === undefined) return { text: stream.text, cutBytes: 0 };
  let shownHead: Buffer;
  let shownTail: Buffer;
  if (keptBytes <= room) {
    [shownHead, shownTail] = [head, tail];
  } else if (stream.cutAt === undefined) {
    shownHead = headOf(head, Math.ceil(room / 2));
    shownTail = tailOf(head, room - shownHead.length);
  } else {
    // The worker's head and tail, each given half the room; one too short leaves the rest to the other.
    const headRoom = Math.max(Math.ceil(room / 2), room - tail.length);
    shownHead = headOf(head, headRoom);
    shownTail = tailOf(tail, room - shownHead.length);
  }
  const cutBytes = stream.bytes - shownHead.length - shownTail.length;
  const before = shownHead.toString('utf8');
  const after = shownTail.toString('utf8');
  const mark = cutMark(name, cutBytes);
  return { text: `${before}${before && !before.endsWith('\n') ? '\n' : ''}${mark}\n${after}`, cutBytes };
}

/** stdout, stderr and the result of one call, fitted into `budget` bytes together. */
export function fitOutput(
  parts: { stdout: Captured; stderr: Captured; result: string | null },
  budget: number,
): { stdout: Shown; stderr: Shown; result: Shown | null } {
  const result: Captured | undefined =
    parts.result === null ? undefined : { text: parts.result, bytes: Buffer.byteLength(parts.result), truncated: false };
  const [out = 0, err = 0, res = 0] = shareBudget(
    [Buffer.byteLength(parts.stdout.text), Buffer.byteLength(parts.stderr.text), result?.bytes ?? 0],
    budget,
  );
  return {
    stdout: fitStream('stdout', parts.stdout, out),
    stderr: fitStream('stderr', parts.stderr, err),
    result: result ? fitStream('result', result, res) : null,
  };
}

/** All a stream kept, with the worker's cut marked, for a caller that asked for the full output. */
export function keptText(name: string, stream: Captured): string {
  if (stream.cutAt === undefined) return stream.text;
  const head = stream.text.slice(0, stream.cutAt);
  const dropped = stream.bytes - Buffer.byteLength(stream.text);
  return `${head}${head && !head.endsWith('\n') ? '\n' : ''}${cutMark(name, dropped)}\n${stream.text.slice(stream.cutAt)}`;
}
