// The floors must do the work labbook does (same files, same bytes, same checks), or the ratio to
// them means nothing: labbook's own code reads what each floor writes.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Project } from "../../packages/core/src/index.ts";
import { Repository } from "../../packages/repository/src/index.ts";
import { LocalStorage } from "../../packages/storage-local/src/index.ts";
import { ASOF, asofMinute, metric, REPO_NAMES } from "../data.mjs";
import { floors, largeFloor } from "../floors.mjs";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "bench-floors-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file under `root`, relative. */
async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

describe("the honest floors", () => {
  it("floor-w1 writes a project labbook opens, with every artifact's size and sha256 right, and no temp file left", async () => {
    const result = await floors["floor-w1"](20, dir);
    expect(result.check).toBe(20);
    expect(result.seconds).toBeGreaterThan(0);
    expect((await files(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const project = await Project.open("project.json", { storage: new LocalStorage(dir), mode: "r" });
    expect(project.size).toBe(20);
    const exp = project.get("experiment-7");
    expect(exp.metrics.metric_03).toBe(metric(7, 3));
    expect(exp.parameters.param_01).toBe("value-8-1");
    expect(exp.tags).toEqual(["bench", "group-7"]);
    // loadArtifact checks the stored sha256 and size against the bytes.
    expect(await exp.loadArtifact("config")).toEqual({ i: 7, lr: 0.001 * 8, layers: [64, 32, 16] });
    expect(await exp.loadArtifact("summary")).toEqual({ i: 7, scores: [1, 2, 3, 4, 5].map((k) => metric(7, k)) });
  });

  it("floor-w2 reads the metric labbook reads", async () => {
    await floors["floor-w1"](10, dir);
    const project = await Project.open("project.json", { storage: new LocalStorage(dir), mode: "r" });
    let total = 0;
    for (const exp of project) total += exp.metrics.metric_05 as number;
    expect((await floors["floor-w2"](10, dir)).check).toBe(Math.round(total * 1e6) / 1e6);
  });

  it("floor-w3 rewrites the index with the same bytes, atomically (no temp file left)", async () => {
    await floors["floor-w1"](5, dir);
    const before = await readFile(path.join(dir, "project.json"));
    const result = await floors["floor-w3"](5, dir);
    expect(result.check).toBe(before.byteLength);
    expect((await readFile(path.join(dir, "project.json"))).equals(before)).toBe(true);
    expect((await files(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("floor-w5 writes a repository labbook opens and finds the as-of versions labbook finds", async () => {
    const n = 120;
    const result = await floors["floor-w5"](n, dir);
    const repo = await Repository.open("repository.json", { storage: new LocalStorage(dir), mode: "r" });
    let expected = 0;
    for (let j = 0; j < ASOF; j++) {
      const asof = new Date(Date.UTC(2024, 0, 1) + asofMinute(j, n) * 60_000 + 30_000);
      const value = await repo.loadArtifact<{ i: number }>(`artifact-${(j * 7) % REPO_NAMES}`, { version: asof, match: "asof" });
      expected += value.i;
    }
    expect(result.check).toBe(expected);
  });

  it("the large-artifact floor hashes what it writes and reads it back whole", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 3);
    const size = 3 * chunk.length + 5;
    async function* source() {
      for (let sent = 0; sent < size; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, size - sent));
    }
    const parts = await largeFloor(path.join(dir, "large"), size, source);
    expect(parts.bytes).toBe(size);
    expect(parts.save_s).toBeGreaterThan(0);
    expect(parts.load_s).toBeGreaterThan(0);
  });
});
