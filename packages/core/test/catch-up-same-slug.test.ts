import { describe, expect, it } from "vitest";
import { MemoryStorage, Project } from "../src/index.js";

/** Every call gives the same second, as runs started together on many workers see it. */
const sameSecond = () => new Date("2024-05-01T10:00:00Z");

describe("a save that catches up keeps experiments that share a slug apart", () => {
  it("loaded experiments with one slug are not merged into each other when another writer added one more", async () => {
    const storage = new MemoryStorage();
    const a = await Project.open("project.json", { storage, author: "a", clock: sameSecond });
    for (const n of [1, 2]) await a.log("train", (e) => e.logMetric("n", n));
    await a.save();

    const b = await Project.open("project.json", { storage, author: "b", clock: sameSecond });
    const c = await Project.open("project.json", { storage, author: "c", clock: sameSecond });
    await c.log("train", (e) => e.logMetric("n", 3));
    await c.save();
    await b.log("other", (e) => e.logMetric("n", 4));
    await b.save(); // catches up with c's commit

    const stored = await Project.open("project.json", { storage, mode: "r" });
    expect(stored.experiments.map((e) => e.metrics.n).sort()).toEqual([1, 2, 3, 4]);
    expect(b.experiments.map((e) => e.metrics.n).sort()).toEqual([1, 2, 3, 4]);
  });
});
