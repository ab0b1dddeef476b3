import { posix } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { InputFile, OutputFile } from '../../runtime/files.js';
import { fileKind } from './fileType.js';

/**
 * execute_python's files: the `files` argument (written into the working directory first) and
 * what the code leaves in ./output/ (returned as image content or embedded resources).
 */

export const MAX_INPUT_FILES = 100;

/** Why a path is refused, or undefined: relative, inside the working directory, plain names. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > 1024) return 'is longer than 1024 characters';
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.includes('\\')) return 'contains a backslash; use / between folders';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute; give a path relative to the working directory';
  const parts = path.split('/');
  if (parts.some((p) => p === '..')) return "contains '..'; files stay inside the working directory";
  if (parts.some((p) => p.length > 255)) return 'has a name longer than 255 characters';
  if (posix.normalize(path) === '.' || path.endsWith('/')) return 'names a directory, not a file';
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function createInputFilesSchema(config: Config) {
  return z
    .array(
      z
        .object({
          path: z.string({ error: 'expected a relative path' }).superRefine((path, ctx) => {
            const problem = pathProblem(path);
            if (problem) ctx.addIssue({ code: 'custom', message: `'${path.slice(0, 80)}' ${problem}` });
          }),
          content: z.string({ error: 'expected the file content as a string' }),
          encoding: z.enum(['utf8', 'base64'], { error: "must be 'utf8' or 'base64'" }).default('utf8'),
        })
        .strict()
        .superRefine((file, ctx) => {
          if (file.encoding === 'base64' && !BASE64.test(file.content.replace(/\s+/g, ''))) {
            ctx.addIssue({ code: 'custom', path: ['content'], message: 'is not valid base64' });
          }
        }),
    )
    .max(MAX_INPUT_FILES, { error: `at most ${MAX_INPUT_FILES} files` })
    .optional()
    .superRefine((files, ctx) => {
      if (!files) return;
      const seen = new Set<string>();
      let total = 0;
      files.forEach((f, i) => {
        const key = posix.normalize(f.path);
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'path'], message: `'${f.path}' is given twice` });
        seen.add(key);
        total += f.encoding === 'base64' ? Math.floor((f.content.replace(/\s+/g, '').length * 3) / 4) : Buffer.byteLength(f.content);
      });
      if (total > config.maxInputFilesBytes) {
        ctx.addIssue({ code: 'custom', message: `are ${total} bytes in all; the limit is ${config.maxInputFilesBytes} (MAX_INPUT_FILES_BYTES)` });
      }
    })
    .describe(
      'Files to place in the working directory before the code runs: [{path (relative, e.g. "data/sales.csv"), content, encoding: "utf8" (default) or "base64"}].',
    );
}

export type InputFileArg = { path: string; content: string; encoding: 'utf8' | 'base64' };

export function toInputFiles(files: InputFileArg[] | undefined): InputFile[] | undefined {
  return files?.map((f) => ({
    path: posix.normalize(f.path),
    data: new Uint8Array(f.encoding === 'base64' ? Buffer.from(f.content, 'base64') : Buffer.from(f.content, 'utf8')),
  }));
}

export const OutputFileSchema = z.object({
  path: z.string().describe('Relative to the working directory, e.g. output/chart.png'),
  mimeType: z.string(),
  size: z.number().int().describe('Bytes'),
  returnedAs: z.enum(['image', 'text', 'blob', 'omitted']).describe('How the content is in this result'),
  note: z.string().optional().describe('Why a file was left out, or why its type is not the one its name suggests'),
});
export type OutputFileInfo = z.infer<typeof OutputFileSchema>;

/**
 * The content blocks for returned files, and their descriptions for structuredContent. The type
 * comes from the bytes (fileKind); an empty file is listed, not sent (an empty image block is
 * refused by model APIs).
 */
export function toFileContent(files: OutputFile[], executionId: string): { content: CallToolResult['content']; info: OutputFileInfo[] } {
  const content: CallToolResult['content'] = [];
  const info = files.map((file): OutputFileInfo => {
    if (!file.data) return { path: file.path, mimeType: file.mimeType, size: file.size, returnedAs: 'omitted', note: file.omitted ?? 'left out' };
    if (file.data.byteLength === 0) return { path: file.path, mimeType: file.mimeType, size: 0, returnedAs: 'omitted', note: 'empty file' };
    const data = Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength);
    const kind = fileKind(file.data, file.mimeType);
    const described = { path: file.path, mimeType: kind.mimeType, size: file.size };
    // Say so when the name promised something else, so the model does not think it wrote a picture.
    const note = kind.mimeType !== file.mimeType && file.mimeType !== 'application/octet-stream' ? { note: `named as ${file.mimeType}, but its bytes are not` } : {};
    if (kind.as === 'image') {
      content.push({ type: 'image', data: data.toString('base64'), mimeType: kind.mimeType });
      return { ...described, returnedAs: 'image', ...note };
    }
    const uri = `python-output:///${executionId}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
    if (kind.as === 'text') {
      content.push({ type: 'resource', resource: { uri, mimeType: kind.mimeType, text: data.toString('utf8') } });
      return { ...described, returnedAs: 'text', ...note };
    }
    content.push({ type: 'resource', resource: { uri, mimeType: kind.mimeType, blob: data.toString('base64') } });
    return { ...described, returnedAs: 'blob', ...note };
  });
  return { content, info };
}

export function describeFiles(files: OutputFileInfo[]): string | undefined {
  if (files.length === 0) return undefined;
  const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`);
  return `[files]\n${files
    .map((f) => `- ${f.path} (${f.mimeType}, ${size(f.size)}${f.returnedAs === 'omitted' ? `; left out: ${f.note}` : `; returned as ${f.returnedAs}${f.note ? `; ${f.note}` : ''}`})`)
    .join('\n')}`;
}
