import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryStorage, Project } from "../src/index.js";
import { RecordingStorage } from "./helpers.js";

const sameSecond = () => new Date("2024-05-01T10:00:00Z");
const SLUG = "train-20240501100000";

/** Every artifact the stored index names exists and matches its sha256. */
async function consistent(storage: MemoryStorage): Promise<void> {
  const project = await Project.open("project.json", { storage, mode: "r" });
  for (const e of project) {
    for (const a of e.artifacts) {
      const bytes = await storage.read(`${e.folder}/${a.fname}`);
      expect(createHash("sha256").update(bytes).digest("hex"), `${e.slug}/${a.fname}`).toBe(a.sha256);
    }
  }
}

async function saved(storage: MemoryStorage, fname = "model.json"): Promise<void> {
  const project = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
  await project.log("train", (e) => e.logArtifact("model", { v: 1 }, { handler: "json", fname }));
  await project.save();
}

describe("an in-place overwrite (mode w+, overwrite, same file name)", () => {
  it("keeps the stored artifact intact when the index write fails", async () => {
    const storage = new RecordingStorage();
    await saved(storage.inner);
    const editor = await Project.open("project.json", { storage, mode: "w+", author: "ada", clock: sameSecond });
    editor.get("train").logArtifact("model", { v: 2 }, { handler: "json", fname: "model.json", overwrite: true });
    storage.failWrite = (key) => key === "project.json";
    await expect(editor.save()).rejects.toMatchObject({ code: "SAVE_FAILED" });
    await consistent(storage.inner);
    expect(await (await Project.open("project.json", { storage: storage.inner, mode: "r" })).get("train").loadArtifact("model")).toEqual({ v: 1 });
    // The retry commits the new bytes under a new name; the old file is left for gc.
    storage.failWrite = () => false;
    await editor.save();
    await consistent(storage.inner);
    const reopened = await Project.open("project.json", { storage: storage.inner, mode: "r" });
    expect(await reopened.get("train").loadArtifact("model")).toEqual({ v: 2 });
    expect(reopened.get("train").artifacts[0]?.fname).toBe("model-1.json");
    expect(await storage.text(`${SLUG}/model.json`)).toBe('{"v": 1}');
  });

  it("keeps the stored artifact intact when the process dies before the index write", async () => {
    const storage = new MemoryStorage();
    await saved(storage);
    const editor = await Project.open("project.json", { storage, mode: "w+", author: "ada", clock: sameSecond });
    editor.get("train").logArtifact("model", { v: 2 }, { handler: "json", fname: "model.json", overwrite: true });
    // The artifact files of the save are out; the index write never comes (killed in between).
    await editor.get("train").saveArtifacts();
    await consistent(storage);
  });

  it("overwriting again before a retry never rewrites a file an index may name", async () => {
    const storage = new RecordingStorage();
    await saved(storage.inner);
    const editor = await Project.open("project.json", { storage, mode: "w+", author: "ada", clock: sameSecond });
    const train = editor.get("train");
    train.logArtifact("model", { v: 2 }, { handler: "json", fname: "model.json", overwrite: true });
    // The index write lands but its answer is lost.
    storage.failWrite = () => false;
    const write = storage.inner.write.bind(storage.inner);
    storage.inner.write = async (key, data, options) => {
      const result = await write(key, data, options);
      if (key === "project.json") {
        storage.inner.write = write;
        throw new Error("connection reset");
      }
      return result;
    };
    await expect(editor.save()).rejects.toMatchObject({ code: "SAVE_FAILED" });
    await consistent(storage.inner);
    train.logArtifact("model", { v: 3 }, { handler: "json", fname: "model.json", overwrite: true });
    await train.saveArtifacts();
    await consistent(storage.inner);
    await editor.save();
    await consistent(storage.inner);
    expect(await (await Project.open("project.json", { storage: storage.inner, mode: "r" })).get("train").loadArtifact("model")).toEqual({ v: 3 });
  });
});

describe("repeated overwrites under one file name", () => {
  it("each save takes the next variant name in one try, with no limit on how often", async () => {
    const storage = new RecordingStorage();
    await saved(storage.inner);
    const editor = await Project.open("project.json", { storage, mode: "w+", author: "ada", clock: sameSecond });
    for (let v = 2; v <= 1100; v++) {
      editor.get("train").logArtifact("model", { v }, { handler: "json", fname: "model.json", overwrite: true });
      storage.reset();
      await editor.save();
      // One artifact write and one index write: no probing of every name taken before.
      expect(storage.writes).toEqual([`${SLUG}/model-${v - 1}.json`, "project.json"]);
    }
    await consistent(storage.inner);
    expect(await (await Project.open("project.json", { storage: storage.inner, mode: "r" })).get("train").loadArtifact("model")).toEqual({ v: 1100 });
  });
});

describe("artifact file names that storages keep for themselves", () => {
  it("are refused when logged (lock and temp-file suffixes), with ARTIFACT_LOG naming the part", async () => {
    const project = await Project.open("project.json", { storage: new MemoryStorage(), author: "ada", clock: sameSecond });
    await project.log("train", (e) => {
      for (const fname of ["project.json.lock", "ckpt.LOCK/model.json", "model.json.lbtmp"]) {
        expect(() => e.logArtifact("model", { v: 1 }, { handler: "json", fname }), fname).toThrowError(
          expect.objectContaining({ code: "ARTIFACT_LOG", message: expect.stringContaining("lock files") }),
        );
      }
      e.logArtifact("model", { v: 1 }, { handler: "json", fname: "locked-model.json" });
    });
    expect(project.get("train").artifacts.map((a) => a.fname)).toEqual(["locked-model.json"]);
  });
});
