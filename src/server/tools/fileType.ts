/**
 * What an output file is, from its bytes rather than its name: a text file named .png must not go
 * out as an image (a model API rejects the block, or the client shows a broken picture), and an
 * image the code named .bin is still an image. The extension only breaks ties between text types
 * (CSV, JSON, Python…), which bytes cannot tell apart.
 */

/** How a file goes into the result. `image` only for formats model APIs take as image blocks. */
export type FileKind = { mimeType: string; as: 'image' | 'text' | 'blob' };

const startsWith = (data: Uint8Array, bytes: readonly number[], at = 0) =>
  data.length >= at + bytes.length && bytes.every((b, i) => data[at + i] === b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** Signatures of the binary formats worth naming; the first that matches wins. */
const SIGNATURES: { mimeType: string; test: (d: Uint8Array) => boolean }[] = [
  // A PNG needs its IHDR chunk too: eight bytes of signature alone are a broken image.
  { mimeType: 'image/png', test: (d) => startsWith(d, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) && startsWith(d, ascii('IHDR'), 12) },
  { mimeType: 'image/jpeg', test: (d) => startsWith(d, [0xff, 0xd8, 0xff]) && d.length > 4 },
  { mimeType: 'image/gif', test: (d) => (startsWith(d, ascii('GIF87a')) || startsWith(d, ascii('GIF89a'))) && d.length >= 13 },
  { mimeType: 'image/webp', test: (d) => startsWith(d, ascii('RIFF')) && startsWith(d, ascii('WEBP'), 8) && d.length > 12 },
  { mimeType: 'application/pdf', test: (d) => startsWith(d, ascii('%PDF-')) },
  { mimeType: 'application/zip', test: (d) => startsWith(d, [0x50, 0x4b, 0x03, 0x04]) || startsWith(d, [0x50, 0x4b, 0x05, 0x06]) },
  { mimeType: 'application/gzip', test: (d) => startsWith(d, [0x1f, 0x8b]) },
  { mimeType: 'application/vnd.apache.parquet', test: (d) => startsWith(d, ascii('PAR1')) },
  { mimeType: 'application/x-sqlite3', test: (d) => startsWith(d, ascii('SQLite format 3\0')) },
];

/** Zip-based formats whose extension says which one (the bytes say only "zip"). */
const ZIP_BASED = /^application\/vnd\.openxmlformats|^application\/vnd\.oasis|^application\/zip$/;

/** Valid UTF-8 without control characters other than tab, newline, carriage return and form feed. */
export function looksLikeText(data: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text);
}

const isTextType = (mimeType: string) => /^text\/|^application\/(json|jsonl|xml|yaml|toml)$|\+xml$/.test(mimeType);

/**
 * The kind of a non-empty file. `byName` is the type its extension suggests. SVG is text: it is
 * XML that model APIs refuse as an image block, and a model can read it.
 */
export function fileKind(data: Uint8Array, byName: string): FileKind {
  const signature = SIGNATURES.find((s) => s.test(data));
  if (signature) {
    if (signature.mimeType === 'application/zip' && ZIP_BASED.test(byName)) return { mimeType: byName, as: 'blob' };
    return { mimeType: signature.mimeType, as: signature.mimeType.startsWith('image/') ? 'image' : 'blob' };
  }
  if (looksLikeText(data)) {
    if (byName === 'image/svg+xml') return { mimeType: byName, as: 'text' };
    if (/<svg[\s>]/.test(new TextDecoder().decode(data.subarray(0, 4096)))) return { mimeType: 'image/svg+xml', as: 'text' };
    return { mimeType: isTextType(byName) ? byName : 'text/plain', as: 'text' };
  }
  // Bytes no signature matched: an extension that claims an image or text is wrong.
  const claimsOther =
    byName.startsWith('image/') || isTextType(byName) || ZIP_BASED.test(byName) || SIGNATURES.some((s) => s.mimeType === byName);
  return { mimeType: claimsOther ? 'application/octet-stream' : byName, as: 'blob' };
}
