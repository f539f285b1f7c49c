import { describe, expect, it } from "vitest";
import { MemoryStorage, Project, parsePyJson, type Storage, type WriteOptions } from "../src/index.js";
import { tickingClock } from "./helpers.js";

const INDEX = "project.json";

async function storedNames(storage: Storage): Promise<string[]> {
  const records = parsePyJson(new TextDecoder().decode(await storage.read(INDEX))) as Array<{ name: string }>;
  return records.map((r) => r.name).sort();
}

/**
 * A MemoryStorage where, once armed with `times`, a rival writer commits an experiment right before
 * each of the next `times` conditional writes of the index: each of those writes meets a real CONFLICT.
 */
function withRival(): { storage: MemoryStorage; rivals: string[]; arm(times: number): void } {
  const storage = new MemoryStorage();
  const rivals: string[] = [];
  const write = storage.write.bind(storage);
  let left = 0;
  let busy = false;
  storage.write = async (key, data, options?: WriteOptions) => {
    if (!busy && key === INDEX && options?.ifMatch !== undefined && left > 0) {
      left--;
      busy = true;
      try {
        const rival = await Project.open(INDEX, { storage, author: "rival", clock: tickingClock("2025-01-01T00:00:00Z") });
        const name = `rival ${rivals.length}`;
        rivals.push(name);
        await rival.log(name, () => {});
        await rival.save();
      } finally {
        busy = false;
      }
    }
    return write(key, data, options);
  };
  return { storage, rivals, arm: (times) => (left = times) };
}

async function project(storage: Storage, author: string, names: string[], start: string): Promise<Project> {
  const p = await Project.open(INDEX, { storage, author, clock: tickingClock(start) });
  for (const name of names) await p.log(name, (e) => e.logArtifact("summary", { name }, { handler: "json" }));
  await p.save();
  return p;
}

describe("a merge whose save gave up (CONFLICT) and is saved again", () => {
  it("commits the merged-in experiments on the retry instead of returning as if nothing changed", async () => {
    // Every attempt of the first save meets a rival commit: the default 8 retries + 1 attempt.
    const { storage, rivals, arm } = withRival();
    const target = await project(storage, "t", ["t0"], "2024-01-01T00:00:00Z");
    const source = await project(new MemoryStorage(), "s", ["s0", "s1"], "2024-02-01T00:00:00Z");
    const merged = target.merge(source);
    arm(9);
    await expect(merged.save()).rejects.toMatchObject({ code: "CONFLICT" });
    expect(rivals).toHaveLength(9);
    // The first attempt copied the artifact files already; the retry must still commit the index.
    await merged.save();
    expect(await storedNames(storage)).toEqual(["s0", "s1", "t0", ...rivals].sort());
    const reopened = await Project.open(INDEX, { storage, mode: "r" });
    expect(await reopened.get(reopened.experiments.find((e) => e.name === "s1")?.slug ?? "").loadArtifact("summary")).toEqual({ name: "s1" });
  });

  it("commits a newer copy of one of the target's own experiments on the retry", async () => {
    const { storage, arm } = withRival();
    const target = await project(storage, "t", ["t0"], "2024-01-01T00:00:00Z");
    // The source holds t0 too, edited later there (same slug and author, later last_updated).
    const elsewhere = new MemoryStorage();
    for await (const info of storage.list("")) await elsewhere.write(info.key, await storage.read(info.key));
    const source = await Project.open(INDEX, { storage: elsewhere, mode: "w+", author: "t", clock: tickingClock("2024-03-01T00:00:00Z") });
    source.experiments[0]?.logMetric("auc", 0.9);
    await source.save();
    const merged = target.merge(source);
    arm(9);
    await expect(merged.save()).rejects.toMatchObject({ code: "CONFLICT" });
    await merged.save();
    const reopened = await Project.open(INDEX, { storage, mode: "r" });
    expect(reopened.experiments.find((e) => e.name === "t0")?.metrics).toEqual({ auc: 0.9 });
  });

  it("does not report merged-in experiments as lost: they were never in the target", async () => {
    const storage = new MemoryStorage();
    const target = await project(storage, "t", ["t0"], "2024-01-01T00:00:00Z");
    const source = await project(new MemoryStorage(), "s", ["s0"], "2024-02-01T00:00:00Z");
    const writer = await Project.open(INDEX, { storage, author: "w" });
    await writer.log("w0", () => {});
    await writer.save();
    const result = await target.merge(source).save();
    expect(result.lost).toEqual([]);
    expect(await storedNames(storage)).toEqual(["s0", "t0", "w0"]);
  });

  it("still reports the target's own experiments when a writer that does not merge removed them", async () => {
    const storage = new MemoryStorage();
    const target = await project(storage, "t", ["t0", "t1"], "2024-01-01T00:00:00Z");
    const source = await project(new MemoryStorage(), "s", ["s0"], "2024-02-01T00:00:00Z");
    const merged = target.merge(source);
    // A blind rewrite (mode "w", as Python lazyscribe does) keeps only t0.
    const blind = await Project.open(INDEX, { storage, mode: "w", author: "t", clock: tickingClock("2024-01-01T00:00:00Z") });
    await blind.log("t0", () => {});
    await blind.save();
    const result = await merged.save();
    expect(result.lost).toHaveLength(1);
    expect(result.lost[0]).toMatch(/^t1-/);
    expect(await storedNames(storage)).toEqual(["s0", "t0", "t1"]);
  });
});

describe("an experiment appended from another project", () => {
  it("is committed by the next save although it is unchanged", async () => {
    const storage = new MemoryStorage();
    const target = await project(storage, "t", ["t0"], "2024-01-01T00:00:00Z");
    const other = await project(new MemoryStorage(), "o", ["o0"], "2024-02-01T00:00:00Z");
    target.append(other.experiments[0] as never);
    await target.save();
    expect(await storedNames(storage)).toEqual(["o0", "t0"]);
  });

  it("is committed by a save retried after CONFLICT", async () => {
    const { storage, rivals, arm } = withRival();
    const target = await project(storage, "t", ["t0"], "2024-01-01T00:00:00Z");
    const other = await project(new MemoryStorage(), "o", ["o0"], "2024-02-01T00:00:00Z");
    target.append(other.experiments[0] as never);
    arm(9);
    await expect(target.save()).rejects.toMatchObject({ code: "CONFLICT" });
    await target.save();
    expect(await storedNames(storage)).toEqual(["o0", "t0", ...rivals].sort());
  });
});
