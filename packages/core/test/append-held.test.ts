import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { type Experiment, MemoryStorage, Project, parsePyJson, type Storage, stringifyPyJson } from "../src/index.js";
import { scanIndex } from "../src/index-scan.js";
import { tickingClock } from "./helpers.js";

const decoder = new TextDecoder();
const text = async (storage: Storage) => decoder.decode(await storage.read("project.json"));
const fixed = (s: string) => () => new Date(`${s}Z`);

/** The experiment every appender logs: enough to tell copies apart. */
function fill(e: Experiment, i: number): void {
  e.logMetric("i", i);
  e.logMetric("half", i + 0.5);
  e.logParameter("nested", { list: [i, [i, { "]": '"},{' }]] } as never);
  e.tag("append", `n${i}`);
}

/** A project of `n` experiments written by labbook, with values a naive splitter would trip on. */
async function seeded(storage: Storage, n: number, start = "2024-01-02T03:04:05Z"): Promise<string> {
  const project = await Project.open("project.json", { storage, mode: "w", author: "seed", clock: tickingClock(start) });
  for (let i = 0; i < n; i++) await project.log(`seed ${i}`, (e) => fill(e, i));
  await project.save();
  return text(storage);
}

/** Copy of a memory storage's index into a fresh one. */
async function copyOf(storage: Storage): Promise<MemoryStorage> {
  const out = new MemoryStorage();
  await out.write("project.json", await storage.read("project.json"));
  return out;
}

/** Append one experiment in mode "a": held (nothing read) or after reading every experiment (the full parse path). */
async function appendOne(storage: Storage, full: boolean, name = "new"): Promise<string> {
  const project = await Project.open("project.json", { storage, author: "adder", clock: fixed("2025-01-01T00:00:00") });
  if (full) expect(project.experiments.length).toBeGreaterThan(0);
  await project.log(name, (e) => fill(e, 999));
  const result = await project.save();
  expect(result.lost).toEqual([]);
  return text(storage);
}

describe('mode "a" keeps stored experiments as text', () => {
  it("an append writes the same bytes as the full parse path, the stored experiments verbatim", async () => {
    const storage = new MemoryStorage();
    const before = await seeded(storage, 5);
    const held = await appendOne(await copyOf(storage), false);
    const full = await appendOne(await copyOf(storage), true);
    expect(held).toBe(full);
    expect(held.startsWith(before.slice(0, -2))).toBe(true);
    expect((parsePyJson(held) as unknown[]).length).toBe(6);
  });

  it("an experiment logged with an earlier clock goes where the full path puts it (ascending created_at)", async () => {
    const storage = new MemoryStorage();
    await seeded(storage, 4);
    const early = async (full: boolean) => {
      const s = await copyOf(storage);
      const project = await Project.open("project.json", { storage: s, author: "adder", clock: fixed("2024-01-02T03:04:06") });
      if (full) void project.experiments;
      await project.log("early", (e) => fill(e, 7));
      await project.save();
      return text(s);
    };
    const held = await early(false);
    expect(held).toBe(await early(true));
    expect((parsePyJson(held) as Array<{ name: string }>).map((r) => r.name)).toEqual(["seed 0", "early", "seed 1", "seed 2", "seed 3"]);
  });

  it.each([
    ["Python lazyscribe's layout (unsorted keys, missing fields)", "/work/shared/lazyscribe-2.2.1-tests/data/project.json"],
    ["Python lazyscribe's file with test artifacts", "/work/shared/lazyscribe-2.2.1-tests/data/project_with_test_artifacts.json"],
    ["Python lazyscribe's merge fixture", "/work/shared/lazyscribe-2.2.1-tests/data/merge_append.json"],
  ])("a file the scanner does not take verbatim (%s) is appended to exactly as the full path does", async (_, file) => {
    const storage = new MemoryStorage();
    await storage.write("project.json", await readFile(file));
    const held = await appendOne(await copyOf(storage), false);
    expect(held).toBe(await appendOne(await copyOf(storage), true));
  });

  it("a file ending in a newline is still held, and appended to as the full path does", async () => {
    const storage = new MemoryStorage();
    const seed = await seeded(storage, 3);
    const withNewline = new MemoryStorage();
    await withNewline.write("project.json", `${seed}\n`);
    expect(scanIndex(await withNewline.read("project.json"), "project.json").plain).toBe(true);
    expect(await appendOne(await copyOf(withNewline), false)).toBe(await appendOne(await copyOf(withNewline), true));
  });

  it("a CRLF file and one out of order are appended to as the full path does", async () => {
    const storage = new MemoryStorage();
    const seed = await seeded(storage, 3);
    const crlf = new MemoryStorage();
    await crlf.write("project.json", seed.replaceAll("\n", "\r\n"));
    expect(await appendOne(await copyOf(crlf), false)).toBe(await appendOne(await copyOf(crlf), true));
    const records = parsePyJson(seed) as unknown[];
    const reversed = new MemoryStorage();
    await reversed.write(
      "project.json",
      `[\n    ${records
        .reverse()
        .map((r) => stringifyPyJson(r, { indent: 4, sortKeys: true, level: 1 }))
        .join(",\n    ")}\n]`,
    );
    expect(await appendOne(await copyOf(reversed), false)).toBe(await appendOne(await copyOf(reversed), true));
  });

  it("stored experiments are not parsed to append: one lazyscribe could not load is kept as it is, and reading it is still refused", async () => {
    const storage = new MemoryStorage();
    const seed = await seeded(storage, 2);
    // A metric that is a string: the full parse refuses the file.
    const bad = seed.replace('"i": 0', '"i": "zero"');
    await storage.write("project.json", bad);
    await expect(Project.open("project.json", { storage, mode: "w+" })).rejects.toMatchObject({ code: "INVALID_FORMAT" });
    const project = await Project.open("project.json", { storage, author: "adder", clock: fixed("2025-01-01T00:00:00") });
    expect(project.size).toBe(2);
    await project.log("new", (e) => fill(e, 5));
    await project.save();
    const after = await text(storage);
    expect(after.startsWith(bad.slice(0, -2))).toBe(true);
    expect(() => project.experiments).toThrowError(expect.objectContaining({ code: "INVALID_FORMAT" }));
  });

  it("reading after appending gives every experiment, and a save after that writes what the full path writes", async () => {
    const storage = new MemoryStorage();
    await seeded(storage, 3);
    const project = await Project.open("project.json", { storage, author: "adder", clock: fixed("2025-01-01T00:00:00") });
    await project.log("new", (e) => fill(e, 999));
    expect(project.size).toBe(4);
    expect(project.get("seed-1").metrics.i).toBe(1);
    expect([...project].map((e) => e.name)).toEqual(["seed 0", "seed 1", "seed 2", "new"]);
    await project.save();
    expect(await text(storage)).toBe(
      await appendOne(
        await (async () => {
          const s = new MemoryStorage();
          await seeded(s, 3);
          return s;
        })(),
        true,
      ),
    );
  });

  it("one held project saving twice beside other writers keeps everyone's experiments", async () => {
    const storage = new MemoryStorage();
    await seeded(storage, 3);
    const a = await Project.open("project.json", { storage, author: "a" });
    const b = await Project.open("project.json", { storage, author: "b" });
    await a.log("a1", (e) => fill(e, 1));
    await b.log("b1", (e) => fill(e, 2));
    await Promise.all([a.save(), b.save()]);
    await a.log("a2", (e) => fill(e, 3));
    await b.log("b2", (e) => fill(e, 4));
    await b.save();
    await a.save();
    const names = (parsePyJson(await text(storage)) as Array<{ name: string }>).map((r) => r.name).sort();
    expect(names).toEqual(["a1", "a2", "b1", "b2", "seed 0", "seed 1", "seed 2"]);
  });

  it("a held experiment another writer removed is written back and reported in lost, with its bytes", async () => {
    const storage = new MemoryStorage();
    const seed = await seeded(storage, 3);
    const project = await Project.open("project.json", { storage, author: "adder", clock: fixed("2025-01-01T00:00:00") });
    // A writer that does not merge (Python lazyscribe) rewrites the file without "seed 1".
    const records = parsePyJson(seed) as unknown[];
    const without = `[\n    ${[records[0], records[2]].map((r) => stringifyPyJson(r, { indent: 4, sortKeys: true, level: 1 })).join(",\n    ")}\n]`;
    await storage.write("project.json", without);
    await project.log("new", (e) => fill(e, 9));
    const { lost } = await project.save();
    expect(lost).toEqual([(records[1] as { slug: string }).slug]);
    const after = await text(storage);
    expect(after.startsWith(seed.slice(0, -2))).toBe(true);
  });

  it("a held experiment another writer edited keeps their edit, and artifacts only the held copy had, as the full path does", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, mode: "w", author: "seed", clock: tickingClock() });
    await project.log("seed 0", (e) => {
      fill(e, 0);
      e.logArtifact("kept", { a: 1 }, { handler: "json" });
    });
    await project.log("seed 1", (e) => fill(e, 1));
    await project.save();
    const seed = await text(storage);
    // A writer that does not merge rewrites "seed 0": a later last_updated, a new metric, its artifact gone.
    const records = parsePyJson(seed) as Array<{ artifacts: unknown[]; last_updated: string; metrics: Record<string, number> }>;
    const edited = records.map((r, i) => (i === 0 ? { ...r, artifacts: [], last_updated: "2024-06-01T00:00:00", metrics: { ...r.metrics, edited: 1 } } : r));
    const editedText = `[\n    ${edited.map((r) => stringifyPyJson(r, { indent: 4, sortKeys: true, level: 1 })).join(",\n    ")}\n]`;
    const run = async (full: boolean) => {
      const s = await copyOf(storage);
      const adder = await Project.open("project.json", { storage: s, author: "adder", clock: fixed("2025-01-01T00:00:00") });
      if (full) void adder.experiments;
      await s.write("project.json", editedText);
      await adder.log("new", (e) => fill(e, 9));
      await adder.save();
      return text(s);
    };
    const held = await run(false);
    expect(held).toBe(await run(true));
    const seed0 = (parsePyJson(held) as Array<{ name: string; metrics: Record<string, number>; artifacts: Array<{ name: string }> }>).find(
      (r) => r.name === "seed 0",
    );
    expect(seed0?.metrics.edited).toBe(1);
    expect(seed0?.artifacts.map((x) => x.name)).toEqual(["kept"]);
  });

  it("appendRecord with a once tag finds a held experiment with that tag, and a save drops ours when another writer committed the tag first", async () => {
    const storage = new MemoryStorage();
    await seeded(storage, 3);
    const project = await Project.open("project.json", { storage, author: "adder" });
    const record = await project.logDetached("job", (e) => e.tag("job-1"));
    const existing = project.appendRecord({ ...record, tags: ["n1"] }, { once: "n1" });
    expect(existing.name).toBe("seed 1");
    expect(project.size).toBe(3);
    // Another process appends the job first; ours is dropped at save.
    const late = await Project.open("project.json", { storage, author: "late" });
    late.appendRecord(record, { once: "job-1" });
    const other = await Project.open("project.json", { storage, author: "other" });
    other.appendRecord(record, { once: "job-1" });
    await other.save();
    await late.save();
    const stored = parsePyJson(await text(storage)) as Array<{ tags: string[] }>;
    expect(stored.filter((r) => r.tags.includes("job-1")).length).toBe(1);
  });
  it("a file that is not JSON is refused on open with INVALID_FORMAT, as before, and left as it was", async () => {
    const storage = new MemoryStorage();
    const seed = await seeded(storage, 2);
    const torn = seed.slice(0, Math.floor(seed.length / 2));
    await storage.write("project.json", torn);
    await expect(Project.open("project.json", { storage })).rejects.toMatchObject({ code: "INVALID_FORMAT", path: "memory://project.json" });
    expect(await text(storage)).toBe(torn);
  });

  it("non-ASCII text another writer left unescaped is kept as it is, as the full path keeps it", async () => {
    const storage = new MemoryStorage();
    const seed = await seeded(storage, 2);
    await storage.write(
      "project.json",
      seed.replace('"seed 1"', '"seed \u00e9"').replace('"author": "seed"', '"author": "s\u00e9ed"').replaceAll("\\u00e9", "é"),
    );
    const raw = await text(storage);
    expect(raw).toContain("é");
    const held = await appendOne(await copyOf(storage), false);
    expect(held).toBe(await appendOne(await copyOf(storage), true));
    expect(held.startsWith(raw.slice(0, -2))).toBe(true);
  });

  it("when another writer leaves a file the scanner does not take verbatim, the save parses everything and loses nothing", async () => {
    const storage = new MemoryStorage();
    await seeded(storage, 2);
    const project = await Project.open("project.json", { storage, author: "adder", clock: fixed("2025-01-01T00:00:00") });
    const other = await Project.open("project.json", { storage, author: "other", clock: fixed("2024-12-01T00:00:00") });
    await other.log("other", (e) => fill(e, 3));
    await other.save();
    // Then a CRLF rewrite (a Windows editor).
    await storage.write("project.json", (await text(storage)).replaceAll("\n", "\r\n"));
    await project.log("new", (e) => fill(e, 9));
    const { lost } = await project.save();
    expect(lost).toEqual([]);
    expect((parsePyJson(await text(storage)) as Array<{ name: string }>).map((r) => r.name)).toEqual(["seed 0", "seed 1", "other", "new"]);
  });
});
