import { LabbookError } from "./errors.js";

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Offset of the first byte that does not start a valid UTF-8 sequence (only called once decoding failed). */
function firstInvalidByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    try {
      strict.decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return bytes.length;
}

/**
 * The text of an index file (project.json, repository.json, releases.json), refusing bytes that a
 * rewrite could not give back: invalid UTF-8 (a lenient decoder turns it into U+FFFD, so even an
 * experiment nobody touched would change) and a byte order mark (Python's json.load refuses it, and
 * labbook would drop it). Both are INVALID_FORMAT naming the file and the byte offset; nothing is changed.
 */
export function decodeIndexText(bytes: Uint8Array, path: string): string {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch (cause) {
    const at = firstInvalidByte(bytes);
    throw new LabbookError(
      "INVALID_FORMAT",
      `${path} is not valid UTF-8 (byte ${at} is 0x${(bytes[at] ?? 0).toString(16).padStart(2, "0")}); it was not read and was not changed. Fix or remove that byte (lazyscribe writes pure ASCII) and open it again.`,
      { path, cause },
    );
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw new LabbookError(
      "INVALID_FORMAT",
      `${path} starts with a UTF-8 byte order mark, which Python's json.load refuses and labbook would drop on a rewrite; it was not read and was not changed. Remove the first 3 bytes and open it again.`,
      { path },
    );
  }
  return text;
}
