/**
 * Mode "a" on S3: stored experiments are held as the bytes read and streamed back with a
 * conditional write (an index over 4 MiB goes as a stream); concurrent appenders lose nothing.
 */
import { type Experiment, Project, parsePyJson, type Storage } from "@labbook/core";
import { S3Storage } from "@labbook/storage-s3";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BUCKET = "append";
let moto: MotoServer;
const storage = (prefix: string) => new S3Storage({ bucket: BUCKET, prefix, endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials });
const text = async (s: Storage) => new TextDecoder().decode(await s.read("project.json"));

function tickingClock(start = "2024-01-02T03:04:05Z"): () => Date {
  let t = Date.parse(start);
  return () => new Date((t += 1000));
}

function fill(e: Experiment, i: number): void {
  e.logMetric("i", i);
  e.logParameter("blob", `${"x".repeat(100_000)}${i}`);
  e.tag("append");
}

async function appendOne(s: Storage, full: boolean, name: string, author = "adder"): Promise<void> {
  const project = await Project.open("project.json", { storage: s, author, clock: () => new Date("2025-01-01T00:00:00Z"), maxRetries: 50 });
  if (full) expect(project.experiments.length).toBeGreaterThan(0);
  await project.log(name, (e) => fill(e, 999));
  expect((await project.save()).lost).toEqual([]);
}

// Under CI a missing moto is a failure (startMoto throws), never a skip.
describe.skipIf(findMoto() === undefined && process.env.CI !== "true")('appending in mode "a" on S3 (moto)', () => {
  beforeAll(async () => {
    const started = await startMoto({ buckets: [BUCKET] });
    if (!started) throw new Error("moto did not start");
    moto = started;
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it("an index over the streaming threshold is appended to with the same bytes as the full path, and concurrent appenders lose nothing", async () => {
    const seedStorage = storage("seed");
    const seeder = await Project.open("project.json", { storage: seedStorage, mode: "w", author: "seed", clock: tickingClock() });
    for (let i = 0; i < 50; i++) await seeder.log(`seed ${i}`, (e) => fill(e, i));
    await seeder.save();
    const seed = await seedStorage.read("project.json");
    expect(seed.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    const held = storage("held");
    const full = storage("full");
    await held.write("project.json", seed);
    await full.write("project.json", seed);
    await appendOne(held, false, "new");
    await appendOne(full, true, "new");
    expect(await text(held)).toBe(await text(full));

    const shared = storage("shared");
    await shared.write("project.json", seed);
    await Promise.all(Array.from({ length: 4 }, (_, w) => appendOne(storage("shared"), false, `w${w}`, `w${w}`)));
    const records = parsePyJson(await text(shared)) as Array<{ name: string }>;
    expect(
      records
        .map((r) => r.name)
        .filter((n) => n.startsWith("w"))
        .sort(),
    ).toEqual(["w0", "w1", "w2", "w3"]);
    expect(records.length).toBe(54);
    expect((await text(shared)).startsWith(new TextDecoder().decode(seed).slice(0, -2))).toBe(true);
  });
});
