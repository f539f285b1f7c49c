import { describe, expect, it } from "vitest";
import { MemoryStorage, Project, stringifyPyJson } from "../src/index.js";
import { caught } from "./helpers.js";

const encoder = new TextEncoder();

function record(name: string, parameters: Record<string, unknown> = {}) {
  const created = "2024-05-01T10:00:00";
  return {
    artifacts: [],
    author: "ada",
    created_at: created,
    dependencies: [],
    last_updated: created,
    last_updated_by: "ada",
    metrics: {},
    name,
    parameters,
    short_slug: name,
    slug: `${name}-20240501100000`,
    tags: [],
    tests: [],
  };
}

const file = (...records: unknown[]) => stringifyPyJson(records, { indent: 4, sortKeys: true });

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe("a project file whose bytes would not survive a rewrite", () => {
  it("invalid UTF-8 is refused with INVALID_FORMAT naming the file and the byte offset; nothing is written", async () => {
    const text = file(record("first", { note: "XX" }), record("second"));
    const at = text.indexOf("XX");
    // 0xff never occurs in UTF-8: decoding it would turn it into U+FFFD and change the stored bytes.
    const bytes = concat(encoder.encode(text.slice(0, at)), new Uint8Array([0xff, 0xfe]), encoder.encode(text.slice(at + 2)));
    for (const mode of ["r", "a", "w+"] as const) {
      const storage = new MemoryStorage();
      await storage.write("project.json", bytes);
      const error = await caught(() => Project.open("project.json", { storage, mode, author: "ada" }));
      expect(error.code).toBe("INVALID_FORMAT");
      expect(error.path).toBe(storage.describe("project.json"));
      expect(error.message).toContain(`byte ${at}`);
      expect(error.message).toContain("UTF-8");
      expect(await storage.read("project.json")).toEqual(bytes);
    }
  });

  it("a UTF-8 byte order mark is refused with INVALID_FORMAT (Python's json.load refuses it too)", async () => {
    const storage = new MemoryStorage();
    const bytes = concat(new Uint8Array([0xef, 0xbb, 0xbf]), encoder.encode(file(record("first"))));
    await storage.write("project.json", bytes);
    const error = await caught(() => Project.open("project.json", { storage, author: "ada" }));
    expect(error.code).toBe("INVALID_FORMAT");
    expect(error.message).toContain("byte order mark");
    expect(await storage.read("project.json")).toEqual(bytes);
  });

  it("valid non-ASCII bytes of an untouched experiment are kept as they are", async () => {
    const storage = new MemoryStorage();
    // A hand edit wrote "é" raw instead of Python's \u00e9 escape.
    const text = file(record("first", { note: "ZZ" }), record("second")).replace("ZZ", "caf\u00e9");
    await storage.write("project.json", text);
    const project = await Project.open("project.json", { storage, mode: "w+", author: "ada" });
    project.get("second").logMetric("m", 1);
    await project.save();
    const saved = new TextDecoder().decode(await storage.read("project.json"));
    expect(saved).toContain('"note": "caf\u00e9"');
  });
});
