/**
 * The runner cuts a long result or error text in Python (cheaper than copying it out), but its
 * `limit` is a value in a Python frame, and Python code can change it
 * (`sys._getframe(0).f_back.f_locals['limit'] = 2**31`). The cap that holds is applied here, in
 * JavaScript, on what the runner returns.
 */

/** Room for the runner's own "... [N more characters cut]" note after `limit` characters. */
const NOTE_ROOM = 64;

/** `text` at most `limit` characters (plus the note saying how many were cut). */
export function capText(text: string, limit: number): string {
  if (text.length <= limit + NOTE_ROOM) return text;
  return `${text.slice(0, limit)}... [${text.length - limit} more characters cut]`;
}
