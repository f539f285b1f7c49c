import { describe, expect, it } from "vitest";
import { isLabbookError, MemoryStorage, Project, parsePyJson, stringifyPyJson } from "../src/index.js";

const at = (iso: string) => () => new Date(iso);

describe("logDetached + appendRecord: an experiment logged in one process, appended by another", () => {
  it("writes the artifact files but not the index, and the appended record saves with them", async () => {
    const storage = new MemoryStorage();
    const worker = await Project.open("project.json", { storage, author: "w1", clock: at("2024-05-01T10:00:07Z") });
    const record = await worker.logDetached(
      "train",
      (e) => {
        e.logMetric("auc", 0.9);
        e.logArtifact("model", { w: [1, 2] }, { handler: "json" });
      },
      { createdAt: new Date("2024-05-01T10:00:00Z") },
    );
    expect(record.slug).toBe("train-20240501100000");
    expect(record.created_at).toBe("2024-05-01T10:00:00");
    expect(await storage.stat("project.json")).toBeUndefined();
    expect(await storage.stat(`train-20240501100000/${record.artifacts[0]?.fname}`)).toBeDefined();

    // The record crosses a process boundary as text.
    const text = stringifyPyJson(record);
    const collector = await Project.open("project.json", { storage, author: "c" });
    collector.appendRecord(parsePyJson(text, "message"));
    await collector.save();
    const reopened = await Project.open("project.json", { storage, mode: "r" });
    expect(reopened.size).toBe(1);
    expect(await reopened.get("train").loadArtifact("model")).toEqual({ w: [1, 2] });
    expect(reopened.get("train").metrics).toEqual({ auc: 0.9 });
  });

  it("once: the same tagged record appended by two writers ends up stored exactly once", async () => {
    const storage = new MemoryStorage();
    const worker = await Project.open("project.json", { storage, author: "w", clock: at("2024-05-01T10:00:00Z") });
    const first = await worker.logDetached("train", (e) => e.tag("run:1"));
    const retried = await worker.logDetached("train", (e) => {
      e.tag("run:1");
      e.logMetric("attempt", 2);
    });
    const other = await worker.logDetached("train", (e) => e.tag("run:2"));
    const a = await Project.open("project.json", { storage });
    const b = await Project.open("project.json", { storage });
    a.appendRecord(first, { once: "run:1" });
    b.appendRecord(retried, { once: "run:1" });
    b.appendRecord(other, { once: "run:2" });
    expect(b.appendRecord(other, { once: "run:2" })).toBe(b.experiments[1]);
    await a.save();
    await b.save(); // catches up with a's commit: its run:1 is left out
    const stored = await Project.open("project.json", { storage, mode: "r" });
    expect(stored.experiments.map((e) => e.tags[0]).sort()).toEqual(["run:1", "run:2"]);
    expect(stored.experiments.find((e) => e.tags.includes("run:1"))?.metrics).toEqual({});
    // A later append of an already stored tag adds nothing.
    const c = await Project.open("project.json", { storage });
    c.appendRecord(retried, { once: "run:1" });
    await c.save();
    expect((await Project.open("project.json", { storage, mode: "r" })).size).toBe(2);
  });

  it("refuses what is not an experiment record, and a once tag the record lacks, with typed errors", async () => {
    const project = await Project.open("project.json", { storage: new MemoryStorage() });
    const error = (() => {
      try {
        project.appendRecord({ name: "x" });
      } catch (e) {
        return e;
      }
    })();
    expect(isLabbookError(error, "INVALID_FORMAT")).toBe(true);
    const record = await project.logDetached("x", () => {});
    expect(() => project.appendRecord(record, { once: "missing" })).toThrow(/once tag/);
    expect(project.size).toBe(0);
  });
});
