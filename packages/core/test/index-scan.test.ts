import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryStorage, Project, parsePyJson, stringifyPyJson } from "../src/index.js";
import { scanIndex } from "../src/index-scan.js";
import { decodeIndexText } from "../src/index-text.js";
import { arrayElementSpans } from "../src/pyjson.js";
import { tickingClock } from "./helpers.js";

const encode = (text: string) => new TextEncoder().encode(text);
const FIXTURES = "/work/shared/lazyscribe-2.2.1-tests/data";

/** A project file as labbook writes it, with values a naive splitter would trip on. */
async function trickyFile(): Promise<string> {
  const storage = new MemoryStorage();
  const project = await Project.open("project.json", { storage, mode: "w", author: 'a"]}, {', clock: tickingClock() });
  await project.log('quote " and ] and }, {', (e) => {
    e.logParameter("nested", { list: [[1, [2, { "}": "]" }]], {}], empty: [], "\\": '\\"' } as never);
    e.logParameter("separator", '},\n    {"slug": "fake"}');
    e.logMetric("nan", Number.NaN);
    e.logMetric("inf", Number.POSITIVE_INFINITY);
    e.logMetric("ninf", Number.NEGATIVE_INFINITY);
    e.logMetric("big", 1e16);
    e.logMetric("exp", 1.5e-7);
    e.logParameter("unicode", "café ☕ 𝄞");
    e.tag("t\u0001");
  });
  await project.log("plain", (e) => e.logMetric("x", 1));
  await project.log("second", (e) => e.logArtifact("cfg", { a: [1, 2] }, { handler: "json" }));
  return project.serialize();
}

function invalidFormat(fn: () => unknown): void {
  expect(fn).toThrowError(expect.objectContaining({ code: "INVALID_FORMAT", path: "p.json" }));
}

describe("scanIndex", () => {
  it("cuts each experiment of a labbook file where the full parser's scanner does, and reads the fields an append needs", async () => {
    const text = await trickyFile();
    const scanned = scanIndex(encode(text), "p.json");
    expect(scanned.plain).toBe(true);
    const parsed = parsePyJson(text) as Array<Record<string, string>>;
    expect(scanned.records.map((r) => [r.start, r.end])).toEqual(arrayElementSpans(text));
    expect(scanned.records.map((r) => [r.slug, r.author, r.created_at, r.last_updated])).toEqual(
      parsed.map((r) => [r.slug, r.author, r.created_at, r.last_updated]),
    );
  });

  it("gives UTF-8 byte offsets when the file holds non-ASCII text (another writer did not escape it)", () => {
    const record = (slug: string) =>
      `{\n        "artifacts": [],\n        "author": "zoë",\n        "created_at": "2024-01-01T00:00:00",\n        "dependencies": [],\n        "last_updated": "2024-01-01T00:00:00",\n        "last_updated_by": "zoë",\n        "metrics": {},\n        "name": "ü ☕ 𝄞",\n        "parameters": {},\n        "short_slug": "u",\n        "slug": "${slug}",\n        "tags": [],\n        "tests": []\n    }`;
    const bytes = encode(`[\n    ${record("a")},\n    ${record("b")}\n]`);
    const scanned = scanIndex(bytes, "p.json");
    expect(scanned.plain).toBe(true);
    expect(scanned.records.map((r) => r.author)).toEqual(["zoë", "zoë"]);
    const second = scanned.records[1];
    expect(new TextDecoder().decode(bytes.subarray(second?.start, second?.end))).toBe(record("b"));
  });

  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith(".json")))("reads Python lazyscribe's %s as the full parser does", (name) => {
    const bytes = readFileSync(path.join(FIXTURES, name));
    const text = decodeIndexText(bytes, name);
    const scanned = scanIndex(bytes, name);
    // These files miss fields lazyscribe fills in (or use its unsorted layout): the full parse writes them, so they are not plain.
    const parsed = parsePyJson(text) as unknown[];
    expect(parsed.length).toBeGreaterThan(0);
    expect(scanned.plain).toBe(false);
  });

  it("a CRLF layout, records out of lazyscribe's fields or a scalar element is not plain (the full parse handles it)", async () => {
    const text = await trickyFile();
    expect(scanIndex(encode(text.replaceAll("\n", "\r\n")), "p.json").plain).toBe(false);
    expect(scanIndex(encode(text.replace('"last_updated_by"', '"last_updated_byX"')), "p.json").plain).toBe(false);
    expect(scanIndex(encode(text.replace('"created_at": "2024-01-02T03:04:05"', '"created_at": "2024-01-02 03:04:05"')), "p.json").plain).toBe(false);
    expect(scanIndex(encode("[\n    1\n]"), "p.json").plain).toBe(false);
    // A final newline (an editor's, jq's, Python's print) is whitespace after the document: still plain.
    expect(scanIndex(encode(`${text}\n`), "p.json").plain).toBe(true);
    expect(scanIndex(encode(`${text}\n \t\r\n`), "p.json").plain).toBe(true);
    expect(() => scanIndex(encode(`${text}\nx`), "p.json")).toThrow(expect.objectContaining({ code: "INVALID_FORMAT" }));
    expect(scanIndex(encode("[]"), "p.json").plain).toBe(false);
    expect(scanIndex(encode('{"a": 1}'), "p.json").plain).toBe(false);
  });

  it("a file out of lazyscribe's order (by created_at; by last_updated within a slug) is not plain, as the full path reorders it", async () => {
    const text = await trickyFile();
    const records = parsePyJson(text) as Array<Record<string, unknown>>;
    const write = (list: unknown[]) => encode(`[\n    ${list.map((r) => stringifyPyJson(r, { indent: 4, sortKeys: true, level: 1 })).join(",\n    ")}\n]`);
    expect(scanIndex(write(records), "p.json").plain).toBe(true);
    expect(scanIndex(write([...records].reverse()), "p.json").plain).toBe(false);
    // Two copies of one slug: the later last_updated must come last, whatever their created_at.
    const a = { ...records[1], last_updated: "2024-02-01T00:00:00" };
    const b = { ...records[1], last_updated: "2024-01-01T00:00:00", created_at: "2024-03-01T00:00:00" };
    expect(scanIndex(write([records[0], a, b]), "p.json").plain).toBe(false);
    expect(scanIndex(write([records[0], b, a]), "p.json").plain).toBe(true);
    expect(scanIndex(write([records[0], b, a]), "p.json").records.map((r) => r.last_updated)).toEqual([
      records[0]?.last_updated,
      b.last_updated,
      a.last_updated,
    ]);
  });

  it.each([
    ["an unterminated string", '[{"a": "abc'],
    ["an unterminated string ending in a backslash", '[{"a": "abc\\'],
    ["an unterminated array", '[{"a": [1, 2'],
    ["an unclosed document", "[\n    {}"],
    ["a bad escape", '[{"a": "\\x"}]'],
    ["a short \\u escape", '[{"a": "\\u12"}]'],
    ["a raw control character", '[{"a": "a\tb"}]'],
    ["a raw newline in a string", '[{"a": "a\nb"}]'],
    ["a trailing comma", '[{"a": 1},]'],
    ["a missing colon", '[{"a" 1}]'],
    ["an unquoted key", "[{a: 1}]"],
    ["text after the document", "[{}] x"],
    ["a second document", "[{}][{}]"],
    ["a malformed number", '[{"a": -}]'],
    ["a number with a lone dot", '[{"a": 1.}]'],
    ["a leading zero", '[{"a": 01}]'],
    ["a misspelt literal", '[{"a": nul}]'],
    ["NaN spelt otherwise", '[{"a": nan}]'],
    ["an empty file", ""],
    ["a byte order mark", "\ufeff[]"],
    ["a lone surrogate escape is fine but a bad byte is not", '[{"a": "\u00ff"}]'],
  ])("refuses %s with INVALID_FORMAT", (_, text) => {
    const bytes = _.includes("bad byte") ? Uint8Array.from([...encode('[{"a": "'), 0xff, ...encode('"}]')]) : encode(text);
    invalidFormat(() => scanIndex(bytes, "p.json"));
  });

  it("refuses invalid UTF-8 outside and inside strings, naming the byte", () => {
    const inside = Uint8Array.from([...encode('[{"a": "x'), 0xc3, 0x28, ...encode('"}]')]);
    expect(() => scanIndex(inside, "p.json")).toThrowError(expect.objectContaining({ code: "INVALID_FORMAT", message: expect.stringMatching(/byte 9/) }));
    // An overlong encoding and an encoded surrogate are not UTF-8 either.
    invalidFormat(() => scanIndex(Uint8Array.from([...encode('[{"a": "'), 0xc0, 0xaf, ...encode('"}]')]), "p.json"));
    invalidFormat(() => scanIndex(Uint8Array.from([...encode('[{"a": "'), 0xed, 0xa0, 0x80, ...encode('"}]')]), "p.json"));
    invalidFormat(() => scanIndex(Uint8Array.from([...encode("[{}, "), 0xe2, 0x98, 0x95, ...encode("]")]), "p.json"));
  });

  it("refuses nesting deeper than Python reads with a typed error, without recursion (a million brackets)", () => {
    const deep = encode(`${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`);
    expect(() => scanIndex(deep, "p.json")).toThrowError(
      expect.objectContaining({ code: "INVALID_FORMAT", message: expect.stringMatching(/nested more than 1000/) }),
    );
    // 1000 levels are fine, as in the parser.
    const ok = `[{"a": ${"[".repeat(998)}${"]".repeat(998)}}]`;
    expect(() => scanIndex(encode(ok), "p.json")).not.toThrow();
    expect(() => parsePyJson(ok)).not.toThrow();
  });

  it("agrees with the full parser on what is valid, for every truncation and thousands of one-byte changes of a real file", async () => {
    const text = await trickyFile();
    const bytes = encode(text);
    const verdict = (b: Uint8Array) => {
      let full: boolean;
      try {
        parsePyJson(decodeIndexText(b, "p.json"), "p.json");
        full = true;
      } catch {
        full = false;
      }
      let scan: boolean;
      try {
        scanIndex(b, "p.json");
        scan = true;
      } catch (error) {
        expect(error).toMatchObject({ code: "INVALID_FORMAT" });
        scan = false;
      }
      return { full, scan };
    };
    for (let cut = 0; cut < bytes.length; cut += 7) expect(verdict(bytes.subarray(0, cut)), `cut at ${cut}`).toEqual({ full: false, scan: false });
    const swaps = [0x22, 0x5c, 0x5b, 0x5d, 0x7b, 0x7d, 0x2c, 0x3a, 0x20, 0x0a, 0x30, 0x2e, 0x65, 0x2d, 0x4e, 0x49, 0x01, 0xff, 0x80];
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let k = 0; k < 3000; k++) {
      const changed = bytes.slice();
      const at = Math.floor(random() * bytes.length);
      changed[at] = swaps[Math.floor(random() * swaps.length)] as number;
      const { full, scan } = verdict(changed);
      expect(scan, `byte ${at} set to 0x${changed[at]?.toString(16)}`).toBe(full);
    }
  });
});
