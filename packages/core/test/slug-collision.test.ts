import { describe, expect, it } from "vitest";
import { MemoryStorage, Project } from "../src/index.js";
import { RecordingStorage } from "./helpers.js";

/** Every call gives the same second, as two runs started together would see. */
const sameSecond = () => new Date("2024-05-01T10:00:00Z");
const SLUG = "train-20240501100000";
const DEFAULT = "model-20240501100000.json";

async function keys(storage: MemoryStorage, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const info of storage.list(prefix)) out.push(info.key);
  return out;
}

describe("experiments that share a slug never overwrite each other's artifact files", () => {
  it("within one project: the second file gets a free variant name and both load", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
    for (const n of [1, 2, 3]) {
      await project.log("train", async (e) => {
        e.logArtifact("model", { n }, { handler: "json" });
        await e.logTest("holdout", {}, (t) => t.logArtifact("preds", `preds ${n}`, { handler: "text" }));
      });
    }
    await project.save();
    expect(project.experiments.map((e) => e.slug)).toEqual([SLUG, SLUG, SLUG]);
    const fnames = project.experiments.map((e) => e.artifacts[0]?.fname);
    expect([...fnames].sort()).toEqual([DEFAULT, "model-20240501100000-1.json", "model-20240501100000-2.json"].sort());
    expect((await keys(storage, `${SLUG}/holdout/`)).length).toBe(3);

    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(reopened.size).toBe(3);
    const loaded = await Promise.all(reopened.experiments.map((e) => e.loadArtifact("model")));
    expect(loaded.map((v) => (v as { n: number }).n).sort()).toEqual([1, 2, 3]);
    const preds = await Promise.all(reopened.experiments.map((e) => e.tests[0]?.loadArtifact("preds")));
    expect([...preds].sort()).toEqual(["preds 1", "preds 2", "preds 3"]);
    // Each entry names its own file: the value logged with it.
    for (const e of reopened.experiments) {
      expect(e.artifacts[0]?.fname).toBe(fnames[reopened.experiments.indexOf(e)]);
    }
  });

  it("across writers: two Project instances on one storage, saving one after the other", async () => {
    const storage = new MemoryStorage();
    const first = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
    const second = await Project.open("project.json", { storage, author: "bo", clock: sameSecond });
    await first.log("train", (e) => e.logArtifact("model", { by: "ada" }, { handler: "json" }));
    await second.log("train", (e) => e.logArtifact("model", { by: "bo" }, { handler: "json" }));
    await first.save();
    await second.save();
    expect(first.get(SLUG).artifacts[0]?.fname).toBe(DEFAULT);
    expect(second.experiments.find((e) => e.author === "bo")?.artifacts[0]?.fname).toBe("model-20240501100000-1.json");

    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(reopened.size).toBe(2);
    const values = await Promise.all(reopened.experiments.map(async (e) => [e.author, await e.loadArtifact("model")] as const));
    expect(Object.fromEntries(values)).toEqual({ ada: { by: "ada" }, bo: { by: "bo" } });
  });

  it("across writers saving at the same time", async () => {
    const storage = new MemoryStorage();
    const writers = await Promise.all(["ada", "bo", "cy"].map((author) => Project.open("project.json", { storage, author, clock: sameSecond })));
    for (const w of writers) await w.log("train", (e) => e.logArtifact("model", { by: w.author }, { handler: "json" }));
    await Promise.all(writers.map((w) => w.save()));
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    const values = await Promise.all(reopened.experiments.map(async (e) => [e.author, await e.loadArtifact("model")] as const));
    expect(Object.fromEntries(values)).toEqual({ ada: { by: "ada" }, bo: { by: "bo" }, cy: { by: "cy" } });
    expect((await keys(storage, `${SLUG}/`)).length).toBe(3);
  });

  it("without a collision the file keeps lazyscribe's default name", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
    await project.log("train", (e) => e.logArtifact("model", { n: 1 }, { handler: "json" }));
    await project.save();
    expect(await keys(storage)).toEqual(["project.json", `${SLUG}/${DEFAULT}`]);
  });

  it("overwrite: true with the same fname writes a new file and leaves the committed one for gc", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
    await project.log("train", (e) => e.logArtifact("model", { v: 1 }, { handler: "json", fname: "model.json" }));
    await project.save();
    const editor = await Project.open("project.json", { storage, mode: "w+", author: "ada", clock: sameSecond });
    editor.get("train").logArtifact("model", { v: 2 }, { handler: "json", fname: "model.json", overwrite: true });
    editor.get("train").logArtifact("model", { v: 3 }, { handler: "json", fname: "model.json", overwrite: true });
    await editor.save();
    // The committed file is never rewritten before the index that no longer names it lands.
    expect(editor.get("train").artifacts[0]?.fname).toBe("model-1.json");
    expect(await keys(storage)).toEqual(["project.json", `${SLUG}/model-1.json`, `${SLUG}/model.json`]);
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(await reopened.get("train").loadArtifact("model")).toEqual({ v: 3 });
  });

  it("a save retried after a failed index write reuses the file it already wrote", async () => {
    const storage = new RecordingStorage();
    const project = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
    await project.log("train", (e) => e.logArtifact("model", { n: 1 }, { handler: "json" }));
    storage.failWrite = (key) => key === "project.json";
    await expect(project.save()).rejects.toMatchObject({ code: "SAVE_FAILED" });
    storage.failWrite = () => false;
    await project.save();
    expect(await storage.keys()).toEqual(["project.json", `${SLUG}/${DEFAULT}`]);
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(await reopened.get("train").loadArtifact("model")).toEqual({ n: 1 });
  });
});
