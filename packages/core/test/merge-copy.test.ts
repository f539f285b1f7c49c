import { describe, expect, it } from "vitest";
import { MemoryStorage, Project } from "../src/index.js";
import { caught, RecordingStorage, tickingClock } from "./helpers.js";

const decoder = new TextDecoder();

async function keys(storage: MemoryStorage, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const info of storage.list(prefix)) out.push(info.key);
  return out;
}

async function text(storage: MemoryStorage, key: string): Promise<string> {
  return decoder.decode(await storage.read(key));
}

/** A saved project at `location` with one experiment ("a-run" or the name given), a metric, a nested parameter and an artifact. */
async function saved(storage: MemoryStorage, location: string, name: string, clock = tickingClock()): Promise<void> {
  const project = await Project.open(location, { storage, author: "ada", clock, mode: "w" });
  await project.log(name, async (e) => {
    e.logMetric("auc", 0.5);
    e.logParameter("layers", { sizes: [1, 2] });
    e.tag("base");
    e.logArtifact("model", { from: location }, { handler: "json" });
    await e.logTest("holdout", {}, (t) => t.logArtifact("preds", `preds of ${location}`, { handler: "text" }));
  });
  await project.save();
}

describe("Project.merge gives the merged project its own editable copies", () => {
  it("experiments from a project opened in mode a can be edited on the merged copy", async () => {
    const storage = new MemoryStorage();
    await saved(storage, "project.json", "run");
    const original = await Project.open("project.json", { storage, author: "bo", clock: tickingClock("2025-01-01T00:00:00Z") });
    const before = original.serialize();
    const merged = original.merge();
    const copy = merged.get("run");
    copy.logMetric("auc", 0.9);
    copy.tag("merged");
    expect(copy.metrics.auc).toBe(0.9);
    expect(copy.frozen).toBe(false);
    // The original is still frozen and unchanged.
    expect(original.get("run").frozen).toBe(true);
    expect(original.get("run").metrics.auc).toBe(0.5);
    expect((await caught(() => original.get("run").logMetric("auc", 1))).code).toBe("READ_ONLY");
    expect(original.serialize()).toBe(before);
  });

  it("editing a merged copy (metrics, nested parameters, tags, tests) leaves the originals untouched", async () => {
    const storage = new MemoryStorage();
    await saved(storage, "a/project.json", "run");
    await saved(storage, "b/project.json", "other");
    const a = await Project.open("a/project.json", { storage, mode: "w+", author: "bo", clock: tickingClock("2025-01-01T00:00:00Z") });
    const b = await Project.open("b/project.json", { storage, mode: "w+", author: "bo", clock: tickingClock("2025-01-01T00:00:00Z") });
    const [beforeA, beforeB] = [a.serialize(), b.serialize()];
    const merged = a.merge(b);
    for (const slug of ["run", "other"]) {
      const copy = merged.get(slug);
      expect(copy).not.toBe(a.find(slug) ?? b.find(slug));
      copy.logMetric("auc", 0.1);
      (copy.parameters.layers as { sizes: number[] }).sizes.push(3);
      copy.tag("x", { overwrite: true });
      copy.tests[0]?.logMetric("n", 5);
    }
    expect(a.serialize()).toBe(beforeA);
    expect(b.serialize()).toBe(beforeB);
    expect(merged.get("other").parameters.layers).toEqual({ sizes: [1, 2, 3] });
    expect(b.get("other").parameters.layers).toEqual({ sizes: [1, 2] });
  });

  it("keeps Python number spellings and key order of the copies", async () => {
    const storage = new MemoryStorage();
    const file = `[{"artifacts": [], "author": "ada", "created_at": "2024-05-01T10:00:00", "dependencies": [], "last_updated": "2024-05-01T10:00:00", "last_updated_by": "ada", "metrics": {"auc": 1.0, "big": 1e+16, "nan": NaN}, "name": "run", "parameters": {"grid": {"10": 1.0, "9": 2.0}}, "short_slug": "run", "slug": "run-20240501100000", "tags": [], "tests": []}]`;
    await storage.write("project.json", file);
    const original = await Project.open("project.json", { storage, mode: "r" });
    const merged = original.merge();
    expect(merged.serialize()).toBe(original.serialize());
    expect(merged.serialize()).toContain('"auc": 1.0');
    expect(merged.serialize()).toContain('"big": 1e+16');
    expect(JSON.stringify(Object.keys(merged.get("run").parameters.grid as object))).toBe(
      JSON.stringify(Object.keys(original.get("run").parameters.grid as object)),
    );
  });

  it("artifacts of experiments from another project load from where they are, and saving copies them in", async () => {
    const storage = new MemoryStorage();
    await saved(storage, "a/project.json", "run");
    await saved(storage, "b/project.json", "other");
    const a = await Project.open("a/project.json", { storage, mode: "r" });
    const b = await Project.open("b/project.json", { storage, mode: "r" });
    const bFiles = await keys(storage, "b/");
    const bIndex = await text(storage, "b/project.json");
    const merged = a.merge(b);
    const other = merged.get("other");
    expect(other.folder).toBe(`a/${other.slug}`);
    // Before any save: read from b's folder (nothing moved).
    expect(await other.loadArtifact("model")).toEqual({ from: "b/project.json" });
    expect(await other.tests[0]?.loadArtifact("preds")).toBe("preds of b/project.json");
    expect(await keys(storage, `a/${other.slug}`)).toEqual([]);
    expect(await merged.get("run").loadArtifact("model")).toEqual({ from: "a/project.json" });

    await merged.save();
    // The merged index names only files in its own folder, and b is untouched.
    const copied = await keys(storage, `a/${other.slug}/`);
    expect(copied.sort()).toEqual(
      bFiles
        .filter((k) => k.startsWith(`b/${other.slug}/`))
        .map((k) => `a/${k.slice(2)}`)
        .sort(),
    );
    expect(await keys(storage, "b/")).toEqual(bFiles);
    expect(await text(storage, "b/project.json")).toBe(bIndex);
    const reopened = await Project.open("a/project.json", { storage, mode: "r" });
    expect(reopened.size).toBe(2);
    expect(await reopened.get("other").loadArtifact("model")).toEqual({ from: "b/project.json" });
    expect(await reopened.get("other").tests[0]?.loadArtifact("preds")).toBe("preds of b/project.json");
    expect(await reopened.get("run").loadArtifact("model")).toEqual({ from: "a/project.json" });
  });

  it("artifacts from a project on another storage load and are copied on save; the own ones are not rewritten", async () => {
    const here = new RecordingStorage();
    const there = new MemoryStorage();
    await saved(here.inner, "project.json", "run");
    await saved(there, "project.json", "other");
    const a = await Project.open("project.json", { storage: here, mode: "w+" });
    const b = await Project.open("project.json", { storage: there, mode: "r" });
    const merged = a.merge(b);
    expect(await merged.get("other").loadArtifact("model")).toEqual({ from: "project.json" });
    here.reset();
    await merged.save();
    // Only b's two files and the index were written to a's storage.
    expect(here.writes.filter((k) => k !== "project.json").sort()).toEqual(
      (await keys(there)).filter((k) => k !== "project.json" && k.startsWith(merged.get("other").slug)).sort(),
    );
    const reopened = await Project.open("project.json", { storage: here, mode: "r" });
    expect(await reopened.get("other").openArtifactStream("model")).toBeDefined();
    expect(await reopened.get("other").loadArtifact("model")).toEqual({ from: "project.json" });
  });

  it("an unsaved artifact of a merged experiment is carried over and written by the merged project", async () => {
    const storage = new MemoryStorage();
    const a = await Project.open("a/project.json", { storage, author: "ada", clock: tickingClock() });
    await a.log("fresh", (e) => e.logArtifact("notes", "hello", { handler: "text" }));
    const merged = new MemoryStorage();
    const target = await Project.open("project.json", { storage: merged, mode: "w" });
    const result = target.merge(a);
    expect(await result.get("fresh").loadArtifact("notes")).toBe("hello");
    await result.save();
    const reopened = await Project.open("project.json", { storage: merged, mode: "r" });
    expect(await reopened.get("fresh").loadArtifact("notes")).toBe("hello");
    // a itself saved nothing.
    expect(await keys(storage)).toEqual([]);
  });

  it("a merged copy appended to another project keeps its location: that save copies nothing into the merged project's folder", async () => {
    const storage = new RecordingStorage();
    await saved(storage.inner, "a/project.json", "run");
    await saved(storage.inner, "b/project.json", "other");
    const merged = (await Project.open("a/project.json", { storage, mode: "r" })).merge(await Project.open("b/project.json", { storage, mode: "r" }));
    const target = await Project.open("c/project.json", { storage, mode: "w" });
    for (const e of merged.experiments) target.append(e);
    storage.reset();
    await target.save();
    expect(storage.writes).toEqual(["c/project.json"]);
    storage.reset();
    await target.save();
    expect(storage.writes).toEqual([]);
  });

  it("stays independent of argument order after edits to the originals", async () => {
    const storage = new MemoryStorage();
    await saved(storage, "a/project.json", "shared");
    await saved(storage, "b/project.json", "shared");
    const a = await Project.open("a/project.json", { storage, mode: "w+", author: "x", clock: tickingClock("2025-01-01T00:00:00Z") });
    const b = await Project.open("b/project.json", { storage, mode: "w+", author: "y", clock: tickingClock("2025-01-01T00:00:00Z") });
    a.get("shared").logMetric("auc", 0.6);
    b.get("shared").logMetric("auc", 0.7);
    expect(a.merge(b).serialize()).toBe(b.merge(a).serialize());
  });
});
