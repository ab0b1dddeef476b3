import { describe, expect, it } from 'vitest';
import { fileKind, looksLikeText } from '../../src/server/tools/fileType.js';

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));
const PNG = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 'IHDR', [0, 0, 0, 4]);

describe('fileKind', () => {
  it('takes a PNG for an image whatever its name', () => {
    expect(fileKind(PNG, 'application/octet-stream')).toEqual({ mimeType: 'image/png', as: 'image' });
  });

  it('takes JPEG, GIF and WebP by their signatures', () => {
    expect(fileKind(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16]), 'image/png').mimeType).toBe('image/jpeg');
    expect(fileKind(bytes('GIF89a', [1, 0, 1, 0, 0, 0, 0]), 'image/gif')).toEqual({ mimeType: 'image/gif', as: 'image' });
    expect(fileKind(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'image/webp')).toEqual({ mimeType: 'image/webp', as: 'image' });
  });

  it('does not take a PNG signature without its header chunk for an image', () => {
    expect(fileKind(PNG.subarray(0, 8), 'image/png')).toEqual({ mimeType: 'application/octet-stream', as: 'blob' });
  });

  it('returns a text file named .png as text', () => {
    expect(fileKind(bytes('hello'), 'image/png')).toEqual({ mimeType: 'text/plain', as: 'text' });
  });

  it('returns SVG as text, by name or by content', () => {
    const svg = bytes('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>');
    expect(fileKind(svg, 'image/svg+xml')).toEqual({ mimeType: 'image/svg+xml', as: 'text' });
    expect(fileKind(svg, 'text/plain')).toEqual({ mimeType: 'image/svg+xml', as: 'text' });
  });

  it('keeps the text type the name gives', () => {
    expect(fileKind(bytes('a,b\n1,2\n'), 'text/csv')).toEqual({ mimeType: 'text/csv', as: 'text' });
  });

  it('names PDF and zip-based documents as blobs', () => {
    expect(fileKind(bytes('%PDF-1.7\n'), 'application/octet-stream')).toEqual({ mimeType: 'application/pdf', as: 'blob' });
    const xlsx = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    expect(fileKind(bytes([0x50, 0x4b, 3, 4, 20]), xlsx)).toEqual({ mimeType: xlsx, as: 'blob' });
  });

  it('does not keep a claimed type the bytes contradict', () => {
    expect(fileKind(bytes([0, 1, 2, 255]), 'application/pdf')).toEqual({ mimeType: 'application/octet-stream', as: 'blob' });
    expect(fileKind(bytes([0, 1, 2, 255]), 'text/csv')).toEqual({ mimeType: 'application/octet-stream', as: 'blob' });
  });
});

describe('looksLikeText', () => {
  it('accepts UTF-8 with tabs and newlines, refuses invalid UTF-8 and control bytes', () => {
    expect(looksLikeText(bytes('a\tb\r\nç'))).toBe(false); // latin1 ç is not UTF-8
    expect(looksLikeText(new Uint8Array(Buffer.from('a\tb\r\nç', 'utf8')))).toBe(true);
    expect(looksLikeText(bytes('a', [0], 'b'))).toBe(false);
  });
});
