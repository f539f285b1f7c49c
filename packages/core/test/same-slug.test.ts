import { describe, expect, it } from "vitest";
import { MemoryStorage, Project, parsePyJson, stringifyPyJson } from "../src/index.js";

/** Every call gives the same second, as runs started together would see. */
const sameSecond = () => new Date("2024-05-01T10:00:00Z");

async function storedUids(storage: MemoryStorage): Promise<string[]> {
  const records = parsePyJson(new TextDecoder().decode(await storage.read("project.json"))) as Array<{ parameters: { uid?: string } }>;
  return records.map((r) => String(r.parameters.uid));
}

describe("experiments that share a slug keep their identity across writers", () => {
  it("successive save cycles after lost races neither multiply nor mix them", async () => {
    const storage = new MemoryStorage();
    const open = (author: string) => Project.open("project.json", { storage, author, clock: sameSecond });
    const [a, b] = [await open("ada"), await open("bo")];
    let n = 0;
    for (let cycle = 0; cycle < 4; cycle++) {
      for (const w of [a, b]) {
        const uid = `u${n++}`;
        await w.log("train", (e) => {
          e.logParameter("uid", uid);
          e.logMetric("value", n);
        });
        await w.save();
      }
    }
    const uids = await storedUids(storage);
    expect([...uids].sort()).toEqual(Array.from({ length: n }, (_, i) => `u${i}`).sort());
    // Each experiment keeps its own values: nothing stale came back.
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    for (const e of reopened) expect(e.metrics.value).toBe(Number(String(e.parameters.uid).slice(1)) + 1);
    // b saved last; a has seen all but b's last experiment.
    expect(a.size).toBe(n - 1);
    expect(b.size).toBe(n);
  });

  it("an edit in mode w+ reaches the right one of several same-slug experiments", async () => {
    const storage = new MemoryStorage();
    const first = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
    for (const uid of ["x", "y", "z"]) await first.log("train", (e) => e.logParameter("uid", uid));
    await first.save();
    const editor = await Project.open("project.json", { storage, mode: "w+", author: "ada", clock: sameSecond });
    const other = await Project.open("project.json", { storage, author: "bo", clock: sameSecond });
    await other.log("train", (e) => e.logParameter("uid", "w"));
    await other.save();
    editor.experiments.find((e) => e.parameters.uid === "y")?.logMetric("edited", 1);
    await editor.save();
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(reopened.experiments.map((e) => [e.parameters.uid, e.metrics.edited ?? 0])).toEqual([
      ["x", 0],
      ["y", 1],
      ["z", 0],
      ["w", 0],
    ]);
  });

  it("merge keeps same-slug experiments of one project apart, and pairs copies of them", async () => {
    const storage = new MemoryStorage();
    const p = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
    for (const uid of ["x", "y"]) await p.log("train", (e) => e.logParameter("uid", uid));
    await p.save();
    const q = await Project.open("q/project.json", { storage, author: "bo", clock: sameSecond });
    await q.log("eval", (e) => e.logParameter("uid", "z"));
    await q.save();
    expect(p.merge(q).experiments.map((e) => e.parameters.uid)).toEqual(["z", "x", "y"]);
    // A copy of the project in which "y" was edited later: two experiments, not four, and the edit wins.
    const later = () => new Date("2024-05-01T11:00:00Z");
    await storage.write("copy/project.json", await storage.read("project.json"));
    const copy = await Project.open("copy/project.json", { storage, mode: "w+", author: "ada", clock: later });
    copy.experiments[1]?.logMetric("edited", 1);
    const merged = p.merge(copy);
    expect(merged.experiments.map((e) => [e.parameters.uid, e.metrics.edited ?? 0])).toEqual([
      ["x", 0],
      ["y", 1],
    ]);
    // Merging with an exact copy of itself changes nothing.
    expect(p.merge(await Project.open("project.json", { storage, mode: "r" })).serialize()).toBe(p.serialize());
  });

  it("an experiment whose index write landed unanswered keeps a later edit when the save is retried", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, mode: "w+", author: "ada", clock: sameSecond });
    const e = await project.log("train", (x) => x.logMetric("m", 5));
    const write = storage.write.bind(storage);
    storage.write = async (key, data, options) => {
      storage.write = write;
      await write(key, data, options);
      throw new Error("connection reset");
    };
    await expect(project.save()).rejects.toMatchObject({ code: "SAVE_FAILED" });
    // Same second: only knowing that the stored copy is the one this process sent keeps the edit.
    e.logMetric("m", 0);
    await project.save();
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(reopened.experiments.map((x) => x.metrics.m)).toEqual([0]);
  });

  it("a save lists the experiments an uncoordinated rewrite erased, and writes them back", async () => {
    const storage = new MemoryStorage();
    const project = await Project.open("project.json", { storage, author: "ada", clock: sameSecond });
    for (const uid of ["x", "y", "z"]) await project.log("train", (e) => e.logParameter("uid", uid));
    const { lost } = await project.save();
    expect(lost).toEqual([]);
    // A writer that does not merge rewrites the file without "y" (as a Python lazyscribe save does).
    const records = parsePyJson(new TextDecoder().decode(await storage.read("project.json"))) as Array<{ parameters: { uid: string } }>;
    await storage.write("project.json", stringifyPyJson([records[0], records[2]], { indent: 4, sortKeys: true }));
    await project.log("eval", (e) => e.logParameter("uid", "w"));
    const warned: Error[] = [];
    const listen = (w: Error) => warned.push(w);
    process.on("warning", listen);
    const result = await project.save();
    await new Promise((r) => setImmediate(r));
    process.off("warning", listen);
    expect(result.lost).toEqual(["train-20240501100000"]);
    expect(warned.map((w) => (w as Error & { code?: string }).code)).toEqual(["LABBOOK_LOST_EXPERIMENTS"]);
    expect([...(await storedUids(storage))].sort()).toEqual(["w", "x", "y", "z"]);
  });
});
