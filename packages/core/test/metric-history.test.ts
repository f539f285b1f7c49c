/**
 * A metric's history by step (labbook's addition): the latest value stays in `metrics` as lazyscribe
 * stores it, the series goes to the `metric-history` json artifact, and Python lazyscribe loads it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findPython, repoRoot, runPython } from "../../../tooling/testing/src/python.js";
import { isLabbookError, METRIC_HISTORY_ARTIFACT, MemoryStorage, Project, parsePyJson } from "../src/index.js";
import { caught, RecordingStorage, tickingClock } from "./helpers.js";

const FILE = "project.json";
const decoder = new TextDecoder();
const python = findPython();
const temp = mkdtempSync(path.join(tmpdir(), "labbook-history-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function open(storage: MemoryStorage | RecordingStorage, mode: "w" | "w+" | "r" = "w") {
  return Project.open(FILE, { storage, mode, author: "ada", clock: tickingClock() });
}

async function keys(storage: MemoryStorage | RecordingStorage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out.sort();
}

async function readJson(storage: MemoryStorage, key: string): Promise<unknown> {
  return parsePyJson(decoder.decode(await storage.read(key)));
}

describe("logMetric with a step", () => {
  it("keeps the latest value in metrics and the series in the metric-history artifact", async () => {
    const storage = new MemoryStorage();
    const project = await open(storage);
    const exp = await project.log("train", async (e) => {
      e.logMetric("loss", 0.9, { step: 0, time: 1_700_000_000_000 });
      e.logMetric("loss", 0.5, { step: 1, time: 1_700_000_001_000 });
      e.logMetric("loss", 0.25, { step: 2, time: new Date(1_700_000_002_000) });
      e.logMetric("acc", 0.7, { step: 5, time: 1_700_000_000_500 });
      e.logMetric("plain", 3);
    });
    expect(exp.metrics).toEqual({ loss: 0.25, acc: 0.7, plain: 3 });
    // Before the save the series is already readable.
    expect((await exp.metricHistory("loss")).map((p) => p.value)).toEqual([0.9, 0.5, 0.25]);
    await project.save();

    const entry = exp.artifacts.find((a) => a.name === METRIC_HISTORY_ARTIFACT);
    expect(entry).toMatchObject({ handler: "json", fname: "metric-history.json", version: 0 });
    expect(await readJson(storage, `${exp.slug}/metric-history.json`)).toEqual({
      labbook_metric_history: 1,
      metrics: {
        loss: { steps: [0, 1, 2], values: [0.9, 0.5, 0.25], times: [1_700_000_000_000, 1_700_000_001_000, 1_700_000_002_000] },
        acc: { steps: [5], values: [0.7], times: [1_700_000_000_500] },
      },
    });
    const reopened = await open(storage, "r");
    expect(await reopened.get(exp.slug).metricHistory("loss")).toEqual([
      { step: 0, value: 0.9, time: new Date(1_700_000_000_000) },
      { step: 1, value: 0.5, time: new Date(1_700_000_001_000) },
      { step: 2, value: 0.25, time: new Date(1_700_000_002_000) },
    ]);
    expect(await reopened.get(exp.slug).metricHistory("plain")).toEqual([]);
  });

  it("changes nothing without a step: no artifact, same file as before", async () => {
    const storage = new MemoryStorage();
    const project = await open(storage);
    const exp = await project.log("plain", async (e) => e.logMetric("auc", 0.8));
    await project.save();
    expect(exp.artifacts).toEqual([]);
    expect(await exp.metricHistory("auc")).toEqual([]);
    expect(await keys(storage, "")).toEqual([FILE]);
  });

  it("gives an empty history for a project written before histories existed, reading nothing", async () => {
    const storage = new RecordingStorage();
    const project = await open(storage);
    await project.log("old", async (e) => e.logMetric("auc", 0.8));
    await project.save();
    const reopened = await open(storage, "r");
    storage.reset();
    expect(await reopened.experiments[0]?.metricHistory("auc")).toEqual([]);
    expect(storage.reads).toEqual([]);
  });

  it("appends to a stored history in mode w+ (a new file; the committed one is left for gc)", async () => {
    const storage = new MemoryStorage();
    const first = await open(storage);
    const exp = await first.log("train", async (e) => {
      e.logMetric("loss", 1, { step: 0, time: 10 });
    });
    await first.save();
    const again = await open(storage, "w+");
    const loaded = again.get(exp.slug);
    loaded.logMetric("loss", 0.5, { step: 1, time: 20 });
    loaded.logMetric("lr", 0.1, { step: 1, time: 20 });
    await again.save();
    expect(loaded.artifacts.filter((a) => a.name === METRIC_HISTORY_ARTIFACT)).toHaveLength(1);
    // An overwrite never rewrites a committed file in place (a failed commit must not lose the old bytes).
    const entry = loaded.artifacts.find((a) => a.name === METRIC_HISTORY_ARTIFACT);
    expect(entry?.fname).toBe("metric-history-1.json");
    expect(await keys(storage, exp.slug)).toEqual([`${exp.slug}/metric-history-1.json`, `${exp.slug}/metric-history.json`]);
    const reread = await open(storage, "r");
    expect(await reread.get(exp.slug).metricHistories()).toEqual({
      loss: { steps: [0, 1], values: [1, 0.5], times: [10, 20] },
      lr: { steps: [1], values: [0.1], times: [20] },
    });
    expect(reread.get(exp.slug).metrics).toEqual({ loss: 0.5, lr: 0.1 });
  });

  it("does not rewrite the history when the series did not change", async () => {
    const storage = new RecordingStorage();
    const project = await open(storage);
    const exp = await project.log("train", async (e) => e.logMetric("loss", 1, { step: 0 }));
    await project.save();
    const again = await open(storage, "w+");
    again.get(exp.slug).logParameter("lr", 0.1);
    storage.reset();
    await again.save();
    expect(storage.writes.filter((k) => k.includes("metric-history"))).toEqual([]);
  });

  it("keeps a test's history in the test's own folder", async () => {
    const storage = new MemoryStorage();
    const project = await open(storage);
    const exp = await project.log("train", async (e) => {
      await e.logTest("holdout", {}, (t) => {
        t.logMetric("auc", 0.6, { step: 0, time: 1 });
        t.logMetric("auc", 0.7, { step: 1, time: 2 });
      });
    });
    await project.save();
    expect(exp.tests[0]?.metrics).toEqual({ auc: 0.7 });
    expect(await readJson(storage, `${exp.slug}/holdout/metric-history.json`)).toEqual({
      labbook_metric_history: 1,
      metrics: { auc: { steps: [0, 1], values: [0.6, 0.7], times: [1, 2] } },
    });
    expect((await (await open(storage, "r")).get(exp.slug).tests[0]?.metricHistory("auc"))?.map((p) => p.step)).toEqual([0, 1]);
  });

  it("refuses a step that is not an integer, changing nothing", async () => {
    const project = await open(new MemoryStorage());
    await project.log("bad", async (e) => {
      for (const step of [1.5, Number.NaN, "3" as unknown as number]) {
        const error = await caught(() => e.logMetric("loss", 1, { step }));
        expect(isLabbookError(error, "INVALID_ARGUMENT")).toBe(true);
        expect((error as Error).message).toContain('Metric "loss": step must be an integer');
      }
      expect(e.metrics).toEqual({});
      expect(await e.metricHistory("loss")).toEqual([]);
    });
  });

  it("says so when an artifact named metric-history is not a history", async () => {
    const storage = new MemoryStorage();
    const project = await open(storage);
    const exp = await project.log("clash", async (e) => e.logArtifact(METRIC_HISTORY_ARTIFACT, { mine: true }, { handler: "json" }));
    await project.save();
    const reopened = await open(storage, "r");
    const error = await reopened
      .get(exp.slug)
      .metricHistory("x")
      .catch((e: unknown) => e);
    expect(isLabbookError(error, "INVALID_FORMAT")).toBe(true);
    expect((error as Error).message).toContain("is not a labbook metric history");
  });

  it.skipIf(python === undefined)("opens in Python lazyscribe 2.2, which loads the series as plain json", async () => {
    const storage = new MemoryStorage();
    const project = await open(storage);
    const exp = await project.log("py", async (e) => {
      e.logMetric("loss", 0.5, { step: 0, time: 1000 });
      e.logMetric("loss", Number.NaN, { step: 1, time: 2000 });
    });
    await project.save();
    const dir = path.join(temp, "py");
    for (const key of await keys(storage, "")) {
      mkdirSync(path.dirname(path.join(dir, key)), { recursive: true });
      writeFileSync(path.join(dir, key), await storage.read(key));
    }
    const dump = parsePyJson(await runPython(path.join(repoRoot, "tooling/python/interop_project.py"), ["dump", dir])) as Array<{
      slug: string;
      metrics: Record<string, number>;
      artifact_values: Record<string, unknown>;
    }>;
    expect(dump[0]?.slug).toBe(exp.slug);
    expect(dump[0]?.metrics.loss).toBeNaN();
    expect(dump[0]?.artifact_values[METRIC_HISTORY_ARTIFACT]).toEqual({
      labbook_metric_history: 1,
      metrics: { loss: { steps: [0, 1], values: [0.5, Number.NaN], times: [1000, 2000] } },
    });
  });
});
