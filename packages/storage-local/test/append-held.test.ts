import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Experiment, Project, parsePyJson, type Storage } from "@labbook/core";
import { afterAll, describe, expect, it } from "vitest";
import { LocalStorage } from "../src/index.js";

// Mode "a" on real files: stored experiments are held as the bytes read and streamed back (core's append-held.test.ts has the rest).

const decoder = new TextDecoder();
const text = async (storage: Storage) => decoder.decode(await storage.read("project.json"));
const fixed = (s: string) => () => new Date(`${s}Z`);

function tickingClock(start = "2024-01-02T03:04:05Z"): () => Date {
  let t = Date.parse(start);
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}

function fill(e: Experiment, i: number): void {
  e.logMetric("i", i);
  e.logMetric("half", i + 0.5);
  e.logParameter("nested", { list: [i, [i, { "]": '"},{' }]] } as never);
  e.tag("append", `n${i}`);
}

async function seeded(storage: Storage, n: number): Promise<string> {
  const project = await Project.open("project.json", { storage, mode: "w", author: "seed", clock: tickingClock() });
  for (let i = 0; i < n; i++) await project.log(`seed ${i}`, (e) => fill(e, i));
  await project.save();
  return text(storage);
}

async function appendOne(storage: Storage, full: boolean, name = "new"): Promise<string> {
  const project = await Project.open("project.json", { storage, author: "adder", clock: fixed("2025-01-01T00:00:00") });
  if (full) expect(project.experiments.length).toBeGreaterThan(0);
  await project.log(name, (e) => fill(e, 999));
  const result = await project.save();
  expect(result.lost).toEqual([]);
  return text(storage);
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('appending in mode "a" to a local project', () => {
  it("concurrent appenders on local files lose and duplicate nothing, and stored experiments stay byte for byte", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "labbook-append-"));
    dirs.push(dir);
    const storage = new LocalStorage(dir);
    const seed = await seeded(storage, 20);
    const seedRecords = (parsePyJson(seed) as unknown[]).length;
    const writers = 8;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let round = 0; round < 3; round++) {
          const project = await Project.open("project.json", { storage: new LocalStorage(dir), author: `w${w}`, maxRetries: 50 });
          await project.log(`w${w} r${round}`, (e) => fill(e, w * 10 + round));
          const { lost } = await project.save();
          expect(lost).toEqual([]);
        }
      }),
    );
    const after = await readFile(path.join(dir, "project.json"), "utf8");
    const records = parsePyJson(after) as Array<{ name: string }>;
    expect(records.length).toBe(seedRecords + writers * 3);
    expect(new Set(records.map((r) => r.name)).size).toBe(records.length);
    // The seeded experiments come first (they are older) and are the same bytes.
    expect(after.startsWith(seed.slice(0, -2))).toBe(true);
  });

  it("an index over the streaming threshold is written from the bytes read, the same as the full path", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "labbook-append-big-"));
    dirs.push(dir);
    const storage = new LocalStorage(dir);
    const project = await Project.open("project.json", { storage, mode: "w", author: "seed", clock: tickingClock() });
    for (let i = 0; i < 60; i++) await project.log(`big ${i}`, (e) => e.logParameter("blob", "x".repeat(100_000) + i));
    await project.save();
    const seed = await readFile(path.join(dir, "project.json"));
    expect(seed.byteLength).toBeGreaterThan(5 * 1024 * 1024);
    const held = await appendOne(new LocalStorage(dir), false);
    await writeFile(path.join(dir, "project.json"), seed);
    const full = await appendOne(new LocalStorage(dir), true);
    expect(held).toBe(full);
  });
});
