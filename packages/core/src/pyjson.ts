/**
 * JSON as Python's `json` module reads and writes it for lazyscribe: NaN and Infinity allowed,
 * `sort_keys=True, indent=4, ensure_ascii=True`, and float spelling kept on a round trip.
 *
 * Written here rather than taken from a library because no JSON package both accepts NaN/Infinity
 * and reports each number's spelling, and the common case must stay as fast as JSON.parse.
 */
import { LabbookError } from "./errors.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

interface Spelling {
  value: number;
  text: string;
}

/**
 * How numbers were spelled in the file they came from, for the ones whose JavaScript number loses it
 * (1.0, 1e+16, huge ints). Keyed by the containing object or array, then by key or index.
 */
const spellings = new WeakMap<object, Map<string | number, Spelling>>();

/**
 * Key order of parsed objects with array-index-like keys ("1", "10"): JavaScript enumerates those
 * first, Python keeps the file's order, so a plain (unsorted) rewrite uses the order recorded here.
 */
const keyOrders = new WeakMap<object, string[]>();

function isIndexKey(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}

/** Mark `container[key]` to be written as a Python float (1 → 1.0), as a float logged in Python would be. */
export function markFloat(container: object, key: string | number): void {
  const value = (container as Record<string | number, unknown>)[key];
  if (typeof value !== "number") return;
  let map = spellings.get(container);
  if (!map) spellings.set(container, (map = new Map()));
  map.set(key, { value, text: pyFloatRepr(value) });
}

/** Copy spelling memos from one container to another (used when cloning records). */
export function copySpellings(from: object, to: object): void {
  const map = spellings.get(from);
  if (map) spellings.set(to, new Map(map));
  const order = keyOrders.get(from);
  if (order) keyOrders.set(to, [...order]);
}

/**
 * A deep copy of parsed JSON that keeps number spellings and key orders (see copySpellings), so the
 * copy serialises exactly like the original. Values other than arrays and plain objects (numbers,
 * strings, a Date someone logged) are shared, not copied.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = value.map((item: unknown) => cloneJson(item));
    copySpellings(value, out);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out = Object.create(proto) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    const item = cloneJson((value as Record<string, unknown>)[key]);
    // "__proto__" must stay an own key, as the parser makes it.
    if (key === "__proto__") Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    else out[key] = item;
  }
  copySpellings(value, out);
  return out as T;
}

// Anything that JSON.parse cannot read, or reads losing the spelling, sends us to the slow parser.
// Array-index-like keys too: JSON.parse would reorder them.
const NEEDS_SLOW_PATH = /NaN|Infinity|\d\.0+(?![0-9])|\d[eE]|\d{16}|"\d+"\s*:/;

/**
 * Arrays and objects nest at most this deep. Python's json cannot read deeper documents (its
 * recursion limit), and labbook's own recursive code (validation, copies, writers, the command's
 * renderers) stays far from the stack limit.
 */
export const MAX_JSON_DEPTH = 1000;

function tooDeep(path: string | undefined, where: string): LabbookError {
  return new LabbookError(
    "INVALID_FORMAT",
    `${path ?? "JSON"} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep${where}; Python's json cannot read it either. Store such values as artifacts.`,
    { path },
  );
}

/** Throws when a parsed value nests deeper than MAX_JSON_DEPTH; the recursion itself stops at the bound. */
function checkDepth(value: unknown, depth: number, path: string | undefined): void {
  if (depth > MAX_JSON_DEPTH) throw tooDeep(path, "");
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === "object" && item !== null) checkDepth(item, depth + 1, path);
  } else {
    for (const key in value as object) {
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === "object" && item !== null) checkDepth(item, depth + 1, path);
    }
  }
}

/** Parse JSON as Python writes it. Throws INVALID_FORMAT with the position of the first error. */
export function parsePyJson(text: string, path?: string): JsonValue {
  if (!NEEDS_SLOW_PATH.test(text)) {
    let value: JsonValue | undefined;
    try {
      value = JSON.parse(text) as JsonValue;
    } catch {
      // fall through: the slow parser gives a precise message
    }
    if (value !== undefined) {
      // JSON.parse has no depth limit; one bounded walk (a few ms for 20 MB) keeps the rest of labbook safe.
      if (typeof value === "object" && value !== null) checkDepth(value, 1, path);
      return value;
    }
  }
  return new Parser(text, path).parseDocument();
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly s: string,
    private readonly path: string | undefined,
  ) {}

  parseDocument(): JsonValue {
    this.ws();
    const v = this.value(undefined, undefined);
    this.ws();
    if (this.i < this.s.length) this.fail("unexpected text after the end of the document");
    return v;
  }

  private fail(what: string): never {
    const before = this.s.slice(0, this.i);
    const line = before.split("\n").length;
    const column = this.i - before.lastIndexOf("\n");
    throw new LabbookError("INVALID_FORMAT", `${this.path ?? "JSON"} is not valid JSON: ${what} at line ${line}, column ${column}.`, { path: this.path });
  }

  private ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++this.i);
  }

  private value(container: object | undefined, key: string | number | undefined): JsonValue {
    const c = this.s[this.i];
    switch (c) {
      case "{":
      case "[": {
        if (++this.depth > MAX_JSON_DEPTH) this.fail(`arrays and objects nested more than ${MAX_JSON_DEPTH} levels deep (Python's json cannot read it either)`);
        const v = c === "{" ? this.object() : this.array();
        this.depth--;
        return v;
      }
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
      case "N":
        return this.literal("NaN", Number.NaN);
      case "I":
        return this.literal("Infinity", Number.POSITIVE_INFINITY);
      default:
        if (c === "-" && this.s.startsWith("-Infinity", this.i)) return this.literal("-Infinity", Number.NEGATIVE_INFINITY);
        if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number(container, key);
        return this.fail(c === undefined ? "unexpected end of input" : `unexpected character ${JSON.stringify(c)}`);
    }
  }

  private literal<T extends JsonValue>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail(`unexpected token`);
    this.i += word.length;
    return v;
  }

  private number(container: object | undefined, key: string | number | undefined): number {
    // A hand scan of JSON's number grammar (no match array per number). Like Python's scanner it
    // stops before a "." or "e" that no digit follows, and the caller reports what comes next.
    const s = this.s;
    const start = this.i;
    let j = start;
    if (s.charCodeAt(j) === 45) j++; // -
    const first = s.charCodeAt(j);
    if (first === 48)
      j++; // a lone leading 0
    else if (first >= 49 && first <= 57) while (isDigit(s.charCodeAt(++j)));
    else return this.fail("malformed number");
    let isFloat = false;
    if (s.charCodeAt(j) === 46 && isDigit(s.charCodeAt(j + 1))) {
      isFloat = true;
      j++;
      while (isDigit(s.charCodeAt(++j)));
    }
    const e = s.charCodeAt(j);
    if (e === 101 || e === 69) {
      const sign = s.charCodeAt(j + 1);
      const digitAt = sign === 43 || sign === 45 ? j + 2 : j + 1;
      if (isDigit(s.charCodeAt(digitAt))) {
        isFloat = true;
        j = digitAt;
        while (isDigit(s.charCodeAt(++j)));
      }
    }
    this.i = j;
    const text = s.slice(start, j);
    const value = Number(text);
    if (container !== undefined && key !== undefined) {
      if ((isFloat && Number.isInteger(value)) || (!isFloat && !Number.isSafeInteger(value))) {
        let map = spellings.get(container);
        if (!map) spellings.set(container, (map = new Map()));
        map.set(key, { value, text });
      }
    }
    return value;
  }

  private string(): string {
    const s = this.s;
    const start = ++this.i;
    // Fast scan for the common case: no escapes.
    let j = start;
    for (;;) {
      const c = s.charCodeAt(j);
      if (c === 34) {
        this.i = j + 1;
        return s.slice(start, j);
      }
      if (c === 92 || Number.isNaN(c) || c < 32) break;
      j++;
    }
    // Slow path: find the first problem exactly where Python's json reports it.
    for (;;) {
      const c = s.charCodeAt(j);
      if (Number.isNaN(c)) {
        this.i = start - 1;
        return this.fail("unterminated string starting");
      }
      if (c === 34) break;
      if (c < 32) {
        this.i = j;
        return this.fail("invalid control character in a string");
      }
      if (c === 92) {
        const e = s[j + 1];
        if (e === undefined) {
          this.i = start - 1;
          return this.fail("unterminated string starting");
        }
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(j + 2, j + 6))) {
            this.i = j + 1;
            return this.fail("invalid \\uXXXX escape");
          }
          j += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) {
          this.i = j;
          return this.fail("invalid \\escape");
        }
        j += 2;
        continue;
      }
      j++;
    }
    this.i = j + 1;
    return JSON.parse(s.slice(start - 1, j + 1)) as string;
  }

  private array(): JsonValue[] {
    this.i++;
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(out, out.length));
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return out;
      if (c !== ",") {
        this.i--;
        this.fail("expected , or ]");
      }
    }
  }

  private object(): { [key: string]: JsonValue } {
    this.i++;
    const out: { [key: string]: JsonValue } = {};
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    // The file's key order, recorded only once an index-like key shows up (the keys before it are in order).
    let keys: string[] | undefined;
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("expected a property name");
      const key = this.string();
      if (keys === undefined && isIndexKey(key)) keys = Object.keys(out);
      if (keys !== undefined && !Object.hasOwn(out, key)) keys.push(key);
      this.ws();
      if (this.s[this.i++] !== ":") {
        this.i--;
        this.fail("expected :");
      }
      this.ws();
      const value = this.value(out, key);
      // "__proto__" must become an own key, not a prototype change; plain assignment is much faster otherwise.
      if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") {
        if (keys !== undefined) keyOrders.set(out, keys);
        return out;
      }
      if (c !== ",") {
        this.i--;
        this.fail("expected , or }");
      }
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  const abs = n < 0 ? -n : n;
  // Between 1e-4 and 1e16 both languages print the shortest round-trip digits in fixed notation.
  if (abs >= 1e-4 && abs < 1e16) return Number.isInteger(n) ? `${n}.0` : String(n);
  const exp = n.toExponential(); // shortest digits, e.g. "1.5e+16"
  const e = exp.indexOf("e");
  const power = Number(exp.slice(e + 1));
  if (power >= -5 + 1 && power < 16) {
    const fixed = String(n);
    return Number.isInteger(n) ? `${fixed}.0` : fixed;
  }
  const mantissa = exp.slice(0, e);
  const sign = power < 0 ? "-" : "+";
  const digits = String(Math.abs(power)).padStart(2, "0");
  return `${mantissa}e${sign}${digits}`;
}

/** How a JavaScript number is written when no spelling was recorded: ints as ints, else repr. */
function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return Object.is(n, -0) ? "0" : String(n);
  return pyFloatRepr(n);
}

// Python's ensure_ascii escapes everything outside space..~ (including DEL) as lowercase \uXXXX.
const NON_ASCII = /[\u007f-\uffff]/g;
function escapeNonAscii(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

export function pyString(s: string): string {
  // Most strings are printable ASCII without quotes or backslashes: nothing to escape.
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return `"${s}"`;
  const json = JSON.stringify(s);
  NON_ASCII.lastIndex = 0;
  return NON_ASCII.test(json) ? json.replace(NON_ASCII, escapeNonAscii) : json;
}

/** Python sorts str keys by code point; JavaScript's default sort is by UTF-16 unit. */
function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    const x = a.codePointAt(k) as number;
    const y = b.codePointAt(k) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) k++;
  }
  return a.length - b.length;
}

function sortedKeys(o: object): string[] {
  const keys = Object.keys(o).sort();
  // UTF-16 order equals code point order unless a key holds a surrogate or a char above them.
  for (const k of keys) {
    for (let i = 0; i < k.length; i++) if (k.charCodeAt(i) >= 0xd800) return keys.sort(compareKeys);
  }
  return keys;
}

/** Own keys in the order they were read (see keyOrders), then any added since. */
function fileOrder(o: object): string[] {
  const keys = Object.keys(o);
  const order = keyOrders.get(o);
  if (!order) return keys;
  const present = new Set(keys);
  const seen = new Set(order);
  return [...order.filter((k) => present.has(k)), ...keys.filter((k) => !seen.has(k))];
}

export interface StringifyOptions {
  /** Spaces per level; lazyscribe's index files use 4. Omit for a compact `json.dump` layout. */
  indent?: number | undefined;
  /** Sort keys at every level (lazyscribe's index files do). */
  sortKeys?: boolean | undefined;
  /** Write as if nested this many levels deep (for one element of a larger indented document). */
  level?: number | undefined;
}

/**
 * Serialise as Python's json.dumps would. Throws SAVE_FAILED-ready TypeErrors on values JSON cannot
 * hold (functions, symbols, bigints, cycles, class instances other than Date).
 */
export function stringifyPyJson(value: unknown, options: StringifyOptions = {}): string {
  const indent = options.indent;
  const sortKeys = options.sortKeys ?? false;
  const seen = new Set<object>();
  const step = indent === undefined ? "" : " ".repeat(indent);
  let out = "";

  const write = (v: unknown, pad: string, memos: Map<string | number, Spelling> | undefined, key: string | number): void => {
    switch (typeof v) {
      case "string":
        out += pyString(v);
        return;
      case "number": {
        const memo = memos?.get(key);
        out += memo !== undefined && Object.is(memo.value, v) ? memo.text : formatNumber(v);
        return;
      }
      case "boolean":
        out += v ? "true" : "false";
        return;
      case "undefined":
        out += "null";
        return;
      case "object":
        break;
      default:
        throw new TypeError(`Object of type ${typeof v} is not JSON serializable`);
    }
    if (v === null) {
      out += "null";
      return;
    }
    if (seen.has(v)) throw new TypeError("Circular reference detected");
    // `seen` holds the containers being written, so its size is the depth.
    if (seen.size >= MAX_JSON_DEPTH)
      throw new TypeError(`Value nested more than ${MAX_JSON_DEPTH} levels deep is not JSON serializable (Python's json cannot read it)`);
    const inner = indent === undefined ? "" : pad + step;
    const open = indent === undefined ? "" : `\n${inner}`;
    const sep = indent === undefined ? ", " : `,\n${inner}`;
    const close = indent === undefined ? "" : `\n${pad}`;
    const own = spellings.get(v);
    if (Array.isArray(v)) {
      if (v.length === 0) {
        out += "[]";
        return;
      }
      seen.add(v);
      out += `[${open}`;
      for (let k = 0; k < v.length; k++) {
        if (k > 0) out += sep;
        write(v[k], inner, own, k);
      }
      out += `${close}]`;
      seen.delete(v);
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`Object of type ${(v as object).constructor?.name ?? "unknown"} is not JSON serializable`);
    }
    const keys = sortKeys ? sortedKeys(v) : fileOrder(v);
    if (keys.length === 0) {
      out += "{}";
      return;
    }
    seen.add(v);
    out += `{${open}`;
    let first = true;
    for (const k of keys) {
      if (!first) out += sep;
      first = false;
      out += `${pyString(k)}: `;
      write((v as Record<string, unknown>)[k], inner, own, k);
    }
    out += `${close}}`;
    seen.delete(v);
  };

  write(value, step.repeat(options.level ?? 0), undefined, "");
  return out;
}

/**
 * Where each element of a JSON array document starts and ends (`[start, end)` in `text`), found by
 * following JSON's own rules for strings and brackets, so a nested value laid out like a top-level
 * separator is never mistaken for one. Undefined when the text is not one balanced array of
 * objects or arrays (scalars at the top level are not reported). One pass, no values built: it is
 * how a save checks, cheaply, that the text it is about to commit is whole, and how the text of
 * each experiment is taken from a file.
 */
export function arrayElementSpans(text: string): Array<[number, number]> | undefined {
  const n = text.length;
  let i = 0;
  let c = text.charCodeAt(i);
  while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++i);
  if (c !== 91) return undefined;
  const spans: Array<[number, number]> = [];
  let depth = 0;
  let start = -1;
  let expectValue = true;
  for (i++; i < n; i++) {
    c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) continue;
    if (c === 34) {
      // A string: jump to its closing quote (one preceded by an even number of backslashes).
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return undefined;
        let slashes = 0;
        while (text.charCodeAt(j - 1 - slashes) === 92) slashes++;
        if (slashes % 2 === 0) break;
        j++;
      }
      if (depth === 0) return undefined;
      i = j;
    } else if (c === 123 || c === 91) {
      if (depth === 0) {
        if (!expectValue) return undefined;
        start = i;
        expectValue = false;
      }
      depth++;
    } else if (c === 125 || c === 93) {
      if (depth === 0) {
        // The closing bracket of the document's array: nothing but whitespace may follow.
        if (c !== 93 || (expectValue && spans.length > 0)) return undefined;
        for (let k = i + 1; k < n; k++) {
          const w = text.charCodeAt(k);
          if (w !== 32 && w !== 10 && w !== 13 && w !== 9) return undefined;
        }
        return spans;
      }
      depth--;
      if (depth === 0) spans.push([start, i + 1]);
    } else if (depth === 0) {
      if (c !== 44 || expectValue) return undefined;
      expectValue = true;
    }
  }
  return undefined;
}
