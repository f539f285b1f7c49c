/**
 * Stored experiments held as their text, for mode "a": a project opened to append keeps what it
 * read as byte ranges of the file (cut by the scanner of index-scan.ts) and writes them back
 * verbatim around the new experiments, so an append never parses the experiments it only keeps.
 */
import { Buffer } from "node:buffer";
import { scanIndex } from "./index-scan.js";
import { lazyscribeOrder } from "./order.js";
import type { ExperimentRecord } from "./schemas.js";

/** One stored experiment: its text (a view of the file's bytes, or text written after a merge) and the fields an append needs. */
export interface HeldRecord {
  readonly data: Uint8Array | string;
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
  // lazyscribeOrder returns its argument when the order is already lazyscribe's.
  const records = scanned.records;
  if (lazyscribeOrder(records as unknown as ExperimentRecord[]) !== (records as unknown)) return undefined;
  return records.map((r) => ({
    data: bytes.subarray(r.start, r.end),
    slug: r.slug,
    author: r.author,
    created_at: r.created_at,
    last_updated: r.last_updated,
  }));
}

const decoder = new TextDecoder("utf-8");
const encoder = new TextEncoder();

/** A held record's text. */
export function heldText(record: HeldRecord): string {
  return typeof record.data === "string" ? record.data : decoder.decode(record.data);
}

function asBuffer(data: Uint8Array | string): Buffer {
  return typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Whether two texts (bytes or strings) are the same. */
export function sameText(a: Uint8Array | string, b: Uint8Array | string): boolean {
  if (typeof a === "string" && typeof b === "string") return a === b;
  return asBuffer(a).equals(asBuffer(b));
}

/** Whether one of `spellings` (a JSON string as files may spell it) occurs in the record's text; the caller confirms on the parsed record. */
export function mayContain(record: HeldRecord, spellings: readonly string[]): boolean {
  if (typeof record.data === "string") return spellings.some((s) => (record.data as string).includes(s));
  const bytes = asBuffer(record.data);
  return spellings.some((s) => bytes.includes(s, 0, "utf8"));
}

const OPEN = encoder.encode("[\n    ");
const SEPARATOR = encoder.encode(",\n    ");
const CLOSE = encoder.encode("\n]");

/** The bytes between two views of one buffer are the separator (they were next to each other in one file). */
function separatedBy(before: Uint8Array, after: Uint8Array): boolean {
  const gap = new Uint8Array(before.buffer, before.byteOffset + before.byteLength, SEPARATOR.length);
  for (let k = 0; k < SEPARATOR.length; k++) if (gap[k] !== SEPARATOR[k]) return false;
  return after.byteOffset === gap.byteOffset + gap.byteLength;
}

/**
 * The bytes of a project file holding `parts` in order, as save() writes it ("[\n    " … ",\n    "
 * … "\n]"), as chunks to stream: runs of records that were next to each other in the file they were
 * read from are one view of it (the separators between them are already there), so nothing is copied.
 */
export function indexChunks(parts: ReadonlyArray<Uint8Array | string>): { chunks: Uint8Array[]; size: number } {
  if (parts.length === 0) return { chunks: [encoder.encode("[]")], size: 2 };
  const chunks: Uint8Array[] = [OPEN];
  let run: Uint8Array | undefined;
  const flush = () => {
    if (run) chunks.push(run);
    run = undefined;
  };
  for (const [i, part] of parts.entries()) {
    if (
      typeof part !== "string" &&
      run &&
      part.buffer === run.buffer &&
      part.byteOffset === run.byteOffset + run.byteLength + SEPARATOR.length &&
      separatedBy(run, part)
    ) {
      run = new Uint8Array(run.buffer, run.byteOffset, run.byteLength + SEPARATOR.length + part.byteLength);
      continue;
    }
    flush();
    if (i > 0) chunks.push(SEPARATOR);
    if (typeof part === "string") chunks.push(encoder.encode(part));
    else run = part;
  }
  flush();
  chunks.push(CLOSE);
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  return { chunks, size };
}

/** Stable sort by created_at (the file's order), for a mix of held records and experiments. */
export function sortByCreatedAt<T>(items: readonly T[], createdAt: (item: T) => string): T[] {
  return items
    .map((item, index) => ({ item, index, at: createdAt(item) }))
    .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.index - y.index))
    .map((x) => x.item);
}
