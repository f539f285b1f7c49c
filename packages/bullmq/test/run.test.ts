import { isLabbookError, MemoryStorage, markFloat, Project } from "@labbook/core";
import { describe, expect, it } from "vitest";
import { assertParameters, collect, findRun, logRun, parseSerializedExperiment, runTag, type SerializedExperiment } from "../src/index.js";

const first = new Date("2024-05-01T10:00:00Z");

async function setup() {
  const storage = new MemoryStorage();
  const open = () => Project.open("project.json", { storage, author: "w", clock: () => new Date("2024-05-01T10:05:00Z") });
  return { storage, open };
}

describe("the engine-neutral runs: logged by a worker, appended once by a collector", () => {
  it("a run logged twice (a retry) and collected twice by two collectors is stored once, with its first attempt's slug", async () => {
    const { open } = await setup();
    const run = { id: "q/1/1714557600000", name: "train", firstAttemptAt: first, tags: ["job:1"] };
    const attempt1 = await logRun(await open(), run, { lr: 0.1 }, (e) => e.logMetric("auc", 0.8));
    const attempt2 = await logRun(await open(), run, { lr: 0.1 }, (e) => e.logMetric("auc", 0.9));
    expect(attempt1.slug).toBe("train-20240501100000");
    expect(attempt2.slug).toBe(attempt1.slug);
    const [a, b] = [await open(), await open()];
    const one = await collect(a, [attempt1]);
    const two = await collect(b, [attempt2, attempt2]);
    expect(one.appended).toBe(1);
    expect(two.experiments).toHaveLength(2);
    const stored = await Project.open("project.json", { storage: a.storage, mode: "r" });
    expect(stored.size).toBe(1);
    const experiment = findRun(stored, run.id);
    expect(experiment?.metrics).toEqual({ auc: 0.8 });
    expect(experiment?.parameters).toEqual({ lr: 0.1 });
    expect(experiment?.tags).toEqual([runTag(run.id), "job:1"]);
    expect(experiment?.record.created_at).toBe("2024-05-01T10:00:00");
  });

  it("a serialised experiment keeps Python's float spelling on its way through a queue", async () => {
    const { open } = await setup();
    const serialized = await logRun(await open(), { id: "r", name: "n", firstAttemptAt: first }, { alpha: 1 }, (e) => {
      e.logMetric("loss", 1);
      markFloat(e.record.metrics, "loss"); // as a float logged in Python reads back
    });
    const through = JSON.parse(JSON.stringify(serialized)) as SerializedExperiment;
    const project = await open();
    await collect(project, [through]);
    expect(project.serialize()).toContain('"loss": 1.0');
    expect(project.serialize()).toMatch(/"alpha": 1\s/);
  });

  it("refuses bad input with typed errors and appends nothing", async () => {
    const { open } = await setup();
    const project = await open();
    const good = await logRun(project, { id: "ok", name: "n", firstAttemptAt: first }, {}, () => {});
    const failure = await collect(project, [good, { labbook_serialized_experiment: 1, run: "x", slug: "s", record: "[1]" }]).catch((e: unknown) => e);
    expect(isLabbookError(failure, "INVALID_FORMAT")).toBe(true);
    expect(project.size).toBe(0);
    expect(() => parseSerializedExperiment({ nope: 1 }, "message 3")).toThrow(/message 3 is not a serialised labbook experiment/);
    for (const bad of [null, [1], "x", 3, new Date(), { f: () => 1 }]) {
      const error = (() => {
        try {
          assertParameters(bad, "job 7");
        } catch (e) {
          return e;
        }
      })();
      expect(isLabbookError(error, "INVALID_ARGUMENT")).toBe(true);
    }
    expect(assertParameters({ a: [1, { b: null }] }, "job 8")).toEqual({ a: [1, { b: null }] });
  });
});
