/**
 * A validating scanner for project files, over their bytes: it checks the whole document is JSON as
 * Python's json module reads it (NaN, Infinity, -Infinity allowed) and finds where each experiment
 * starts and ends, plus the few string fields an append needs (slug, author, dates), without
 * building any value. Mode "a" keeps stored experiments as these byte ranges and writes them back
 * verbatim, so appending costs what reading and writing the file's bytes cost.
 *
 * Written here (not taken from a library) because no JSON package validates NaN/Infinity-extended
 * JSON over a Uint8Array without building values; it is one pass with an explicit depth bound.
 */
import { Buffer } from "node:buffer";
import { canonicalDate } from "./dates.js";
import { LabbookError } from "./errors.js";
import { decodeIndexText } from "./index-text.js";
import { MAX_JSON_DEPTH } from "./pyjson.js";

/**
 * One stored experiment as the scanner found it: its bytes are `source[start, end)`. Its fields are
 * decoded from the bytes when first asked for (most appends never ask), then kept.
 */
export class ScannedRecord {
  /** Fields decoded so far (or had escapes), by F_SLUG, F_AUTHOR, F_CREATED, F_UPDATED. */
  #text: Array<string | undefined>;

  constructor(
    /** The scanned bytes (shared by every record of one scan, never copied). */
    readonly source: Buffer,
    readonly start: number,
    readonly end: number,
    /** Bounds of the slug, author, created_at and last_updated strings (quotes excluded; -1 when decoded already). */
    readonly at: readonly number[],
    text: Array<string | undefined> | undefined,
  ) {
    this.#text = text ?? [];
  }

  #field(k: number): string {
    let v = this.#text[k];
    if (v === undefined) {
      v = this.source.toString("utf8", this.at[2 * k], this.at[2 * k + 1]);
      this.#text[k] = v;
    }
    return v;
  }

  /** Field `k` against `other`'s: bytes compared while both are plain ranges of one buffer. */
  compare(other: ScannedRecord, k: number): number {
    const s1 = this.at[2 * k] as number;
    const s2 = other.at[2 * k] as number;
    if (s1 >= 0 && s2 >= 0 && this.source === other.source)
      return compareBytes(this.source, s1, this.at[2 * k + 1] as number, s2, other.at[2 * k + 1] as number);
    const a = this.#field(k);
    const b = other.#field(k);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** created_at is before `other`'s (bytes compared, nothing decoded, within one scan). */
  createdBefore(other: ScannedRecord): boolean {
    return this.compare(other, F_CREATED) < 0;
  }

  get slug(): string {
    return this.#field(F_SLUG);
  }
  get author(): string {
    return this.#field(F_AUTHOR);
  }
  get created_at(): string {
    return this.#field(F_CREATED);
  }
  get last_updated(): string {
    return this.#field(F_UPDATED);
  }
}

/** Byte order of two ranges of one buffer (the order of their strings when both are ASCII, as canonical dates are). */
function compareBytes(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let k = 0; k < n; k++) {
    const d = (b[s1 + k] as number) - (b[s2 + k] as number);
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

/** The bytes are a date in lazyscribe's spelling, YYYY-MM-DDTHH:MM:SS. */
function canonicalDateBytes(b: Uint8Array, s: number, e: number): boolean {
  if (e - s !== 19) return false;
  for (let k = 0; k < 19; k++) {
    const c = b[s + k] as number;
    const want = k === 4 || k === 7 ? 45 : k === 10 ? 84 : k === 13 || k === 16 ? 58 : -1;
    if (want === -1 ? c < 48 || c > 57 : c !== want) return false;
  }
  return true;
}

export interface ScannedIndex {
  /** The top-level elements (only filled when `plain`). */
  readonly records: ScannedRecord[];
  /**
   * True when the file can be appended to without parsing it: lazyscribe's layout around the
   * experiments ("[\n    " … ",\n    " … "\n]"), every element an object with all the fields
   * lazyscribe would otherwise fill in (so the full parse would write it back unchanged), dates in
   * lazyscribe's spelling. False sends the caller to the full parse.
   */
  readonly plain: boolean;
}

// What an object is, for the completeness checks.
const NONE = 0;
const RECORD = 1;
const TEST = 2;
const ARTIFACT = 3;

const RECORD_KEYS = [
  "artifacts",
  "author",
  "created_at",
  "dependencies",
  "last_updated",
  "last_updated_by",
  "metrics",
  "name",
  "parameters",
  "short_slug",
  "slug",
  "tags",
  "tests",
];
const TEST_KEYS = ["artifacts", "description", "metrics", "parameters"];
const ARTIFACT_KEYS = ["created_at", "expiry", "fname", "version"];
const ALL_RECORD = (1 << RECORD_KEYS.length) - 1;
const ALL_TEST = (1 << TEST_KEYS.length) - 1;
const ALL_ARTIFACT = (1 << ARTIFACT_KEYS.length) - 1;

const asBytes = (keys: readonly string[]) => keys.map((k) => Uint8Array.from(k, (ch) => ch.charCodeAt(0)));
const RECORD_KEY_BYTES = asBytes(RECORD_KEYS);
const TEST_KEY_BYTES = asBytes(TEST_KEYS);
const ARTIFACT_KEY_BYTES = asBytes(ARTIFACT_KEYS);

const OBJECT = 1;
const ARRAY = 2;
// Which string field of a record (or artifact) the next value is.
const F_NONE = -1;
const F_SLUG = 0;
const F_AUTHOR = 1;
const F_CREATED = 2;
const F_UPDATED = 3;
const F_DATE = 4; // an artifact's created_at: only its spelling is checked

/** Bytes that stand for themselves in a string: printable ASCII but the quote and the backslash (one table load per byte). */
const PLAIN_IN_STRING = new Uint8Array(256);
for (let c = 32; c < 128; c++) if (c !== 34 && c !== 92) PLAIN_IN_STRING[c] = 1;

// Set by scanString: whether the string just scanned had escapes.
let lastEscaped = false;

/** The closing quote of the string opening at `i`, or a negative code: -1 unterminated, -2 control character at lastBad, -3 bad escape at lastBad. */
let lastBad = 0;
function scanString(b: Uint8Array, i: number): number {
  let j = i + 1;
  lastEscaped = false;
  for (;;) {
    const c = b[j] as number;
    if (PLAIN_IN_STRING[c] === 1) {
      j++;
      continue;
    }
    if (c >= 128) {
      // Non-ASCII (lazyscribe escapes it, other writers may not): one whole, valid UTF-8 sequence.
      const length = utf8Length(b, j);
      if (length === 0) {
        lastBad = j;
        return -4;
      }
      j += length;
      continue;
    }
    if (c === 34) return j;
    if (c === 92) {
      lastEscaped = true;
      const e = b[j + 1];
      if (e === 117) {
        for (let k = j + 2; k < j + 6; k++) {
          const h = b[k] as number;
          if (!((h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102))) {
            lastBad = j;
            return e === undefined || h === undefined ? -1 : -3;
          }
        }
        j += 6;
        continue;
      }
      if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) {
        j += 2;
        continue;
      }
      lastBad = j;
      return e === undefined ? -1 : -3;
    }
    if (j >= b.length) return -1;
    lastBad = j;
    return -2;
  }
}

/** The length of the valid UTF-8 sequence starting at `j` (a non-ASCII lead byte), 0 when it is not one (RFC 3629: no overlongs, no surrogates). */
function utf8Length(b: Uint8Array, j: number): number {
  const c = b[j] as number;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const x = b[j + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The end of the number starting at `i`, or -1 when none starts there. Stops where Python's scanner stops. */
function scanNumber(b: Uint8Array, i: number): number {
  let j = i;
  if (b[j] === 45) j++;
  const first = b[j] as number;
  if (first === 48) j++;
  else if (first >= 49 && first <= 57) {
    j++;
    while (isDigit(b[j])) j++;
  } else return -1;
  if (b[j] === 46 && isDigit(b[j + 1])) {
    j += 2;
    while (isDigit(b[j])) j++;
  }
  const e = b[j];
  if (e === 101 || e === 69) {
    const sign = b[j + 1];
    const at = sign === 43 || sign === 45 ? j + 2 : j + 1;
    if (isDigit(b[at])) {
      j = at + 1;
      while (isDigit(b[j])) j++;
    }
  }
  return j;
}

function startsWith(b: Uint8Array, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** Which of `keyBytes` the bytes `b[s, e)` are (-1: none), without making a string. */
function keyIndex(b: Uint8Array, s: number, e: number, keyBytes: readonly Uint8Array[]): number {
  const length = e - s;
  outer: for (let k = 0; k < keyBytes.length; k++) {
    const kb = keyBytes[k] as Uint8Array;
    if (kb.length !== length) continue;
    for (let m = 0; m < length; m++) if (b[s + m] !== kb[m]) continue outer;
    return k;
  }
  return -1;
}

function invalid(b: Uint8Array, path: string, what: string, at: number): LabbookError {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(at, b.length);
  for (let k = 0; k < end; k++)
    if (b[k] === 10) {
      line++;
      lineStart = k + 1;
    }
  return new LabbookError(
    "INVALID_FORMAT",
    `${path} is not valid JSON: ${what} at line ${line}, column ${end - lineStart + 1}; it was not changed. Fix the file (or restore it from a copy) and open it again.`,
    { path },
  );
}

/** The scan itself: one loop with an explicit stack (no recursion), so depth is bounded and hot state stays in locals. */
function scanDocument(b: Uint8Array, path: string): ScannedIndex {
  const n = b.length;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const kinds = new Uint8Array(MAX_JSON_DEPTH + 2);
  const roles = new Uint8Array(MAX_JSON_DEPTH + 2);
  const masks = new Int32Array(MAX_JSON_DEPTH + 2);
  const records: ScannedRecord[] = [];
  let depth = 0;
  let i = 0;
  let plain = true;
  let topArray = false;
  // The record being scanned (depth 2 of the top array).
  let recordStart = 0;
  // The four fields of the record being scanned: bounds (-1: not seen), or the text when it has escapes.
  let at = [-1, -1, -1, -1, -1, -1, -1, -1];
  let text: Array<string | undefined> | undefined;
  let previous: ScannedRecord | undefined;
  // Set by a key, used by its value.
  let field = F_NONE;
  let inner = NONE;
  // 0: a value; 1: after a value; 2: a key; 3: a key or "}"; 4: a value or "]".
  let state = 0;
  for (;;) {
    let c = b[i] as number;
    while (c === 32 || c === 10 || c === 13 || c === 9) {
      i++;
      // Indentation after a line break: four spaces at a time (most of a pretty-printed file's whitespace).
      if (c === 10) while (i + 4 <= n && view.getUint32(i, true) === 0x20202020) i += 4;
      c = b[i] as number;
    }
    if (state === 1) {
      if (depth === 0) {
        if (i < n) throw invalid(b, path, "unexpected text after the end of the document", i);
        break;
      }
      const kind = kinds[depth];
      if (c === 44) {
        i++;
        state = kind === OBJECT ? 2 : 0;
        continue;
      }
      if (c === 125 && kind === OBJECT) {
        i++;
        const role = roles[depth] as number;
        if (role !== NONE && masks[depth] !== (role === RECORD ? ALL_RECORD : role === TEST ? ALL_TEST : ALL_ARTIFACT)) plain = false;
        depth--;
        if (role === RECORD && depth === 1) {
          let complete = true;
          for (let k = 0; k < 4; k++) if (at[2 * k] === -1 && text?.[k] === undefined) complete = false;
          if (!complete) plain = false;
          else {
            const record = new ScannedRecord(buf, recordStart, i, at, text);
            // lazyscribe's order (see order.ts): by created_at, and by last_updated within a slug; a file out of it is parsed.
            if (previous && (record.compare(previous, F_SLUG) === 0 ? record.compare(previous, F_UPDATED) < 0 : record.compare(previous, F_CREATED) < 0))
              plain = false;
            records.push(record);
            previous = record;
          }
        }
        continue;
      }
      if (c === 93 && kind === ARRAY) {
        i++;
        depth--;
        continue;
      }
      throw invalid(b, path, kind === OBJECT ? "expected , or }" : "expected , or ]", i);
    }
    if (state === 2 || state === 3) {
      if (c === 125 && state === 3) {
        // An empty object.
        i++;
        const role = roles[depth] as number;
        if (role !== NONE) plain = false;
        depth--;
        if (role === RECORD && depth === 1) plain = false;
        state = 1;
        continue;
      }
      if (c !== 34) throw invalid(b, path, "expected a property name", i);
      const close = scanString(b, i);
      if (close < 0) throw stringError(b, path, close, i);
      const role = roles[depth] as number;
      field = F_NONE;
      inner = NONE;
      if (role !== NONE) {
        const keys = role === RECORD ? RECORD_KEY_BYTES : role === TEST ? TEST_KEY_BYTES : ARTIFACT_KEY_BYTES;
        const k = lastEscaped ? -1 : keyIndex(b, i + 1, close, keys);
        if (lastEscaped) plain = false; // lazyscribe never escapes its keys; let the full parse judge
        if (k >= 0) {
          masks[depth] = (masks[depth] as number) | (1 << k);
          const key = (role === RECORD ? RECORD_KEYS : role === TEST ? TEST_KEYS : ARTIFACT_KEYS)[k];
          if (role === RECORD) {
            if (key === "slug") field = F_SLUG;
            else if (key === "author") field = F_AUTHOR;
            else if (key === "created_at") field = F_CREATED;
            else if (key === "last_updated") field = F_UPDATED;
            else if (key === "artifacts") inner = ARTIFACT;
            else if (key === "tests") inner = TEST;
          } else if (role === TEST) {
            if (key === "artifacts") inner = ARTIFACT;
          } else if (key === "created_at") field = F_DATE;
        }
      }
      i = close + 1;
      c = b[i] as number;
      while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i] as number;
      if (c !== 58) throw invalid(b, path, "expected :", i);
      i++;
      state = 0;
      continue;
    }
    // state 0 or 4: a value
    if (state === 4 && c === 93) {
      i++;
      depth--;
      state = 1;
      continue;
    }
    const wanted = inner;
    const capture = field;
    inner = NONE;
    field = F_NONE;
    if (wanted !== NONE && c !== 91) plain = false;
    state = 1;
    if (c === 34) {
      const close = scanString(b, i);
      if (close < 0) throw stringError(b, path, close, i);
      if (capture !== F_NONE) {
        if (lastEscaped) {
          const v = JSON.parse(buf.toString("utf8", i, close + 1)) as string;
          if (capture >= F_CREATED && canonicalDate(v) !== undefined) plain = false;
          if (capture !== F_DATE) {
            text ??= [];
            text[capture] = v;
          }
        } else {
          // A date lazyscribe would respell sends the file to the full parse.
          if (capture >= F_CREATED && !canonicalDateBytes(b, i + 1, close) && canonicalDate(buf.toString("utf8", i + 1, close)) !== undefined) plain = false;
          if (capture !== F_DATE) {
            at[2 * capture] = i + 1;
            at[2 * capture + 1] = close;
          }
        }
      }
      i = close + 1;
      continue;
    }
    if (c === 123 || c === 91) {
      if (++depth > MAX_JSON_DEPTH)
        throw invalid(b, path, `arrays and objects nested more than ${MAX_JSON_DEPTH} levels deep (Python's json cannot read it either)`, i);
      const parentArray = kinds[depth - 1] === ARRAY;
      const parentRole = roles[depth - 1] as number;
      if (c === 123) {
        kinds[depth] = OBJECT;
        masks[depth] = 0;
        // An object's role is its array's element role.
        const role = depth === 1 ? NONE : parentArray ? parentRole : NONE;
        roles[depth] = role;
        if (depth === 1) plain = false;
        if (role === RECORD) {
          recordStart = i;
          at = [-1, -1, -1, -1, -1, -1, -1, -1];
          text = undefined;
        }
        state = 3;
      } else {
        kinds[depth] = ARRAY;
        // An array's element role: the top array holds records; "artifacts" and "tests" hold theirs.
        roles[depth] = depth === 1 ? RECORD : wanted;
        if (depth === 1) topArray = true;
        else if (depth === 2) plain = false; // an element of the top array that is not an object
        state = 4;
      }
      i++;
      continue;
    }
    if (depth === 1) plain = false; // a scalar in the top array
    if (c === 116 && startsWith(b, i, "true")) i += 4;
    else if (c === 102 && startsWith(b, i, "false")) i += 5;
    else if (c === 110 && startsWith(b, i, "null")) i += 4;
    else if (c === 78 && startsWith(b, i, "NaN")) i += 3;
    else if (c === 73 && startsWith(b, i, "Infinity")) i += 8;
    else if (c === 45 && b[i + 1] === 73 && startsWith(b, i, "-Infinity")) i += 9;
    else {
      const end = scanNumber(b, i);
      if (end < 0) {
        if (i >= n) throw invalid(b, path, "unexpected end of input", i);
        throw invalid(b, path, c === 45 || isDigit(c) ? "malformed number" : `unexpected character ${JSON.stringify(String.fromCharCode(c))}`, i);
      }
      i = end;
    }
  }
  plain = plain && topArray && records.length > 0 && lazyscribeLayout(b, records);
  return { records: plain ? records : [], plain };
}

function stringError(b: Uint8Array, path: string, code: number, start: number): LabbookError {
  if (code === -1) return invalid(b, path, "unterminated string starting", start);
  if (code === -2) return invalid(b, path, "invalid control character in a string", lastBad);
  if (code === -4) {
    // The decoder's own error names the byte (it always throws on invalid UTF-8).
    decodeIndexText(b, path);
    return invalid(b, path, "invalid UTF-8", lastBad);
  }
  return invalid(b, path, "invalid \\escape", lastBad);
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

const OPEN = [91, 10, 32, 32, 32, 32]; // "[\n    "
const SEP = [44, 10, 32, 32, 32, 32]; // ",\n    "

function bytesAt(b: Uint8Array, at: number, expected: readonly number[]): boolean {
  for (let k = 0; k < expected.length; k++) if (b[at + k] !== expected[k]) return false;
  return true;
}

/** The bytes around the records are exactly what a save writes around them. */
function lazyscribeLayout(b: Uint8Array, records: readonly ScannedRecord[]): boolean {
  if ((records[0]?.start ?? -1) !== 6 || !bytesAt(b, 0, OPEN)) return false;
  for (let k = 1; k < records.length; k++) {
    const prev = records[k - 1] as ScannedRecord;
    const next = records[k] as ScannedRecord;
    if (next.start !== prev.end + 6 || !bytesAt(b, prev.end, SEP)) return false;
  }
  const end = (records.at(-1) as ScannedRecord).end;
  if (end + 2 > b.length || b[end] !== 10 || b[end + 1] !== 93) return false;
  // Whitespace after the closing bracket (an editor's or a tool's final newline) is kept by nothing:
  // a save writes the file without it on either path, so the records can still be kept verbatim.
  for (let i = end + 2; i < b.length; i++) {
    const c = b[i];
    if (c !== 10 && c !== 13 && c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * Scan a project file's bytes. INVALID_FORMAT (with line and column) when they are not valid UTF-8,
 * start with a byte order mark, or are not one JSON document as Python's json reads it, including
 * nesting deeper than MAX_JSON_DEPTH; an unterminated string ends the scan, it never hangs.
 */
export function scanIndex(bytes: Uint8Array, path: string): ScannedIndex {
  // A byte order mark: the decoder's own error (invalid UTF-8 is found by the scan, in strings, and outside them is no JSON).
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) decodeIndexText(bytes, path);
  return scanDocument(bytes, path);
}
