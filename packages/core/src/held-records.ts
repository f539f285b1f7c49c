/**
 * Stored experiments held as their text, for mode "a": a project opened to append keeps what it
 * read as byte ranges of the file (cut by the scanner of index-scan.ts) and writes them back
 * verbatim around the new experiments, so an append never parses the experiments it only keeps.
 */
import { Buffer } from "node:buffer";
import { ScannedRecord, scanIndex } from "./index-scan.js";

/**
 * One stored experiment: its text is `source[start, end)` (a file's bytes as read, shared by all
 * its records, or the text written after a merge), with the fields an append needs.
 */
export interface HeldRecord {
  readonly source: Uint8Array | string;
  readonly start: number;
  readonly end: number;
  readonly slug: string;
  readonly author: string;
  readonly created_at: string;
  readonly last_updated: string;
}

/**
 * The experiments of a project file as held records, in the file's order; undefined when the file
 * needs the full parse to be written back as the full parse would write it (another layout, a
 * record lazyscribe would complete, an order lazyscribe would change). INVALID_FORMAT when the bytes
 * are not a JSON document.
 */
export function holdRecords(bytes: Uint8Array, path: string): HeldRecord[] | undefined {
  const scanned = scanIndex(bytes, path);
  if (!scanned.plain) return undefined;
  // The scan checked the records are in lazyscribe's order (a file out of it is not plain).
  return scanned.records;
}

/** A held record for a text written by this process. */
export function heldString(text: string, fields: Omit<HeldRecord, "source" | "start" | "end">): HeldRecord {
  return { source: text, start: 0, end: text.length, ...fields };
}

const decoder = new TextDecoder("utf-8");
const encoder = new TextEncoder();

function bytesOf(record: HeldRecord): Uint8Array {
  return typeof record.source === "string" ? encoder.encode(record.source) : record.source.subarray(record.start, record.end);
}

/** A held record's text. */
export function heldText(record: HeldRecord): string {
  return typeof record.source === "string" ? record.source : decoder.decode(record.source.subarray(record.start, record.end));
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Whether a held record's text is `text` (another held record's, or a string). */
export function sameText(record: HeldRecord, text: HeldRecord | string): boolean {
  if (typeof text === "string") {
    if (typeof record.source === "string") return record.source === text;
    if (record.end - record.start !== Buffer.byteLength(text)) return false;
    return asBuffer(bytesOf(record)).equals(Buffer.from(text, "utf8"));
  }
  if (record.end - record.start !== text.end - text.start && typeof record.source !== "string" && typeof text.source !== "string") return false;
  return asBuffer(bytesOf(record)).equals(asBuffer(bytesOf(text)));
}

/** Whether one of `spellings` (a JSON string as files may spell it) occurs in the record's text; the caller confirms on the parsed record. */
export function mayContain(record: HeldRecord, spellings: readonly string[]): boolean {
  if (typeof record.source === "string") return spellings.some((s) => (record.source as string).includes(s));
  const bytes = asBuffer(bytesOf(record));
  return spellings.some((s) => bytes.includes(s, 0, "utf8"));
}

const OPEN = encoder.encode("[\n    ");
const SEPARATOR = encoder.encode(",\n    ");
const CLOSE = encoder.encode("\n]");

/**
 * The bytes of a project file holding `parts` in order, as save() writes it ("[\n    " … ",\n    "
 * … "\n]"), as chunks to stream: runs of records that were next to each other in the file they were
 * read from are one view of it (the scanner checked the separators between them), so nothing is copied.
 */
export function indexChunks(parts: ReadonlyArray<HeldRecord | string>): { chunks: Uint8Array[]; size: number } {
  if (parts.length === 0) return { chunks: [encoder.encode("[]")], size: 2 };
  const chunks: Uint8Array[] = [OPEN];
  let run: { source: Uint8Array; start: number; end: number } | undefined;
  const flush = () => {
    if (run) chunks.push(run.source.subarray(run.start, run.end));
    run = undefined;
  };
  for (const [i, part] of parts.entries()) {
    if (typeof part !== "string" && typeof part.source !== "string") {
      if (run && part.source === run.source && part.start === run.end + SEPARATOR.length) {
        run.end = part.end;
        continue;
      }
      flush();
      if (i > 0) chunks.push(SEPARATOR);
      run = { source: part.source, start: part.start, end: part.end };
      continue;
    }
    flush();
    if (i > 0) chunks.push(SEPARATOR);
    chunks.push(encoder.encode(typeof part === "string" ? part : (part.source as string)));
  }
  flush();
  chunks.push(CLOSE);
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  return { chunks, size };
}

/** `a` was created before `b`; held records of one scan compare bytes (their fields stay undecoded). */
export function createdBefore(a: HeldRecord, b: HeldRecord): boolean {
  if (a instanceof ScannedRecord && b instanceof ScannedRecord) return a.createdBefore(b);
  return a.created_at < b.created_at;
}

/** Stable sort by created_at (the file's order), for a mix of held records and experiments. */
export function sortByCreatedAt<T>(items: readonly T[], createdAt: (item: T) => string): T[] {
  return items
    .map((item, index) => ({ item, index, at: createdAt(item) }))
    .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.index - y.index))
    .map((x) => x.item);
}
