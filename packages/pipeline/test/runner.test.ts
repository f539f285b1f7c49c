import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isLabbookError, Project } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { parseHTML } from "linkedom";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { aggregate, cachers, defineExperiment, PIPELINE_RUN_TAG, parameterHash, type RunOptions, runPipeline, stage } from "../src/index.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "labbook-pipeline-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir` with its size and mtime, to prove what a command did (not) touch. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = `${statSync(full).size}:${statSync(full).mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

const schema = z.object({ n: z.number().int(), fail: z.boolean().default(false) });
type P = z.output<typeof schema>;
const calls: string[] = [];
const make = stage<Record<string, never>, { xs: number[] }, P>({ name: "make", outputs: ["xs"], cachers: [cachers.json()] }, (_i, r) => {
  calls.push(`make:${r.name}`);
  return { xs: Array.from({ length: r.params.n }, (_, i) => i * i) };
});
const fit = stage<{ xs: number[] }, { model: { mean: number; keys: string[] } }, P>(
  { name: "fit", inputs: ["xs"], outputs: ["model"], cachers: [cachers.json()], artifacts: ["model"] },
  ({ xs }, r) => {
    calls.push(`fit:${r.name}`);
    if (r.params.fail) throw new Error("the model diverged");
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    r.logMetric("mean", mean);
    r.report({ kind: "line", title: "squares", series: { xs, half: xs.map((x) => x / 2) }, xLabel: "i" });
    r.report({ kind: "table", title: "fit", rows: [{ mean, n: xs.length }] });
    return { model: { mean, keys: ["a", "b"] } };
  },
);
const compare = aggregate<{ model: { mean: number } }, { ranking: string[] }, P>(
  { name: "compare", inputs: ["model"], outputs: ["ranking"], cachers: [cachers.json()], artifacts: ["ranking"] },
  (records, r) => {
    calls.push("compare");
    r.report({ kind: "bar", title: "means", bars: Object.fromEntries(records.map((x) => [x.name, x.values.model.mean])) });
    r.report({ kind: "text", text: "<b>not markup</b>" });
    r.logMetric("best_mean", Math.max(...records.map((x) => x.values.model.mean)));
    return { ranking: [...records].sort((a, b) => b.values.model.mean - a.values.model.mean).map((x) => x.name) };
  },
);
const experiment = defineExperiment({ name: "squares", parameters: schema, stages: [make, fit], aggregates: [compare] });
const sets = [
  { set: { name: "small", n: 3 }, source: "test" },
  { set: { name: "big", n: 5 }, source: "test" },
];

function options(dir: string, extra: Partial<RunOptions> = {}): RunOptions {
  const progress: string[] = [];
  return {
    experiment,
    parameterSets: sets,
    data: new LocalStorage(dir),
    command: "labbook run squares.ts -p test",
    progress: { isTTY: false, write: (t: string) => progress.push(t) },
    out: () => {},
    ...extra,
  };
}

async function readProject(dir: string): Promise<Project> {
  return Project.open("project.json", { storage: new LocalStorage(dir), mode: "r" });
}

describe("runPipeline", () => {
  it("logs each run as an experiment tagged pipeline-run with status, duration, commit, command, tests, metrics and artifacts", async () => {
    const dir = tempDir();
    const first = await runPipeline(options(dir, { notes: "first try" }));
    expect(first.status).toBe("done");
    const second = await runPipeline(options(dir));
    expect(second.runNumber).toBe(2);
    const project = await readProject(dir);
    expect(project.experiments.map((e) => e.parameters.run_number)).toEqual([1, 2]);
    const exp = project.experiments[0];
    if (!exp) throw new Error("no experiment");
    expect(exp.name).toBe("squares run 1");
    expect(exp.parameters.pipeline).toBe("squares");
    expect(exp.tags).toContain(PIPELINE_RUN_TAG);
    expect(exp.parameters).toMatchObject({ status: "done", error: null, command: "labbook run squares.ts -p test", notes: "first try" });
    expect(typeof exp.parameters.duration_s).toBe("number");
    expect(exp.parameters.git_commit).toMatch(/^[0-9a-f]{40}$/);
    expect((exp.parameters.parameter_sets as Record<string, { hash: string }>).small?.hash).toBe(parameterHash({ n: 3, fail: false }, schema));
    expect(exp.metrics.best_mean).toBe(6);
    expect(exp.tests.map((t) => [t.name, t.metrics.mean, t.parameters.n])).toEqual([
      ["small", 5 / 3, 3],
      ["big", 6, 5],
    ]);
    const artifacts = Object.fromEntries(exp.artifacts.map((a) => [a.name, a]));
    expect(Object.keys(artifacts).sort()).toEqual(["big-model", "ranking", "report", "small-model"]);
    expect(artifacts.report?.handler).toBe("text");
    expect(artifacts.report?.fname.endsWith(".html")).toBe(true);
    expect(await exp.loadArtifact("ranking")).toEqual(["big", "small"]);
    expect(await exp.loadArtifact("big-model")).toEqual({ mean: 6, keys: ["a", "b"] });
    // Run 2 computed nothing: every stage came from the cache.
    expect(second.records.flatMap((r) => r.stages.map((s) => s.status))).toEqual(["cached", "cached", "cached", "cached"]);
  });

  it("a failing stage marks the run failed with the error, keeps what was cached and rejects with STAGE_FAILED", async () => {
    const dir = tempDir();
    const bad = [...sets, { set: { name: "broken", n: 2, fail: true }, source: "test" }];
    const error = await runPipeline(options(dir, { parameterSets: bad })).catch((e: unknown) => e);
    expect(isLabbookError(error, "STAGE_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/Stage "fit" failed for record "broken".*the model diverged/);
    const project = await readProject(dir);
    const exp = project.experiments[0];
    expect(exp?.parameters.status).toBe("failed");
    expect(String(exp?.parameters.error)).toMatch(/Stage "fit" failed for record "broken"/);
    // The two good records and the broken one's first stage stay cached.
    const cached = readdirSync(path.join(dir, "cache")).filter((f) => !f.endsWith("_metadata.json"));
    const hb = parameterHash({ n: 2, fail: true }, schema);
    expect(cached).toContain(`squares_${hb}_make_xs.json`);
    expect(cached.filter((f) => f.includes("_fit_model"))).toHaveLength(2);
    expect(cached.some((f) => f.includes("_compare_"))).toBe(false);
    // The report says it failed.
    const { document } = parseHTML(readFileSync(path.join(dir, "reports", "squares_1.html"), "utf8"));
    expect(document.querySelector("pre.error")?.textContent).toMatch(/the model diverged/);
    expect(document.querySelector('g.stage[data-status="failed"]')?.getAttribute("data-stage")).toBe("fit");
  });

  it("--dry prints what would run and what is cached and writes nothing", async () => {
    const dir = tempDir();
    const lines: string[] = [];
    calls.length = 0;
    await runPipeline(options(dir, { dry: true, out: (l) => lines.push(l) }));
    expect(readdirSync(dir)).toEqual([]);
    expect(calls).toEqual([]);
    expect(lines.filter((l) => l.startsWith("run "))).toHaveLength(5);
    await runPipeline(options(dir));
    const before = snapshot(dir);
    lines.length = 0;
    calls.length = 0;
    await runPipeline(options(dir, { dry: true, out: (l) => lines.push(l) }));
    expect(snapshot(dir)).toEqual(before);
    expect(calls).toEqual([]);
    expect(lines.filter((l) => l.startsWith("cached"))).toHaveLength(5);
    expect(lines.at(-1)).toMatch(/0 stage\(s\) would run, 5 cached/);
  });

  it("--hashes prints each parameter set's hash and writes nothing", async () => {
    const dir = tempDir();
    const lines: string[] = [];
    await runPipeline(options(dir, { hashes: true, out: (l) => lines.push(l) }));
    expect(lines[0]).toBe(`small\t${parameterHash({ n: 3, fail: false }, schema)}`);
    expect(lines[1]).toBe(`big\t${parameterHash({ n: 5, fail: false }, schema)}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses a bad experiment or parameter set before running or writing anything", async () => {
    const dir = tempDir();
    calls.length = 0;
    const broken = defineExperiment({ name: "squares", parameters: schema, stages: [fit, make] });
    const e1 = await runPipeline(options(dir, { experiment: broken })).catch((e: unknown) => e);
    expect(isLabbookError(e1, "MISSING_DEPENDENCY")).toBe(true);
    const e2 = await runPipeline(options(dir, { parameterSets: [{ set: { name: "x", n: "three" }, source: "p.json" }] })).catch((e: unknown) => e);
    expect(isLabbookError(e2, "INVALID_ARGUMENT")).toBe(true);
    expect((e2 as Error).message).toMatch(/from p.json .*n:/);
    const e3 = await runPipeline(options(dir, { overwriteStages: ["nope"] })).catch((e: unknown) => e);
    expect(isLabbookError(e3, "INVALID_ARGUMENT")).toBe(true);
    expect(calls).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("--store-full keeps outputs, parameters, environment and a reproducing line; that folder runs fully cached", async () => {
    const dir = tempDir();
    const result = await runPipeline(
      options(dir, {
        storeFull: true,
        parameterFiles: [{ name: "/somewhere/params.json", content: '[{"name":"small","n":3}]' }],
        modulePath: "/abs/squares.ts",
        now: () => new Date("2026-01-02T03:04:05Z"),
      }),
    );
    expect(result.runFolder).toBe("runs/squares_1_20260102T030405");
    const folder = path.join(dir, "runs", "squares_1_20260102T030405");
    const files = Object.keys(snapshot(folder)).sort();
    expect(files).toContain("environment.json");
    expect(files).toContain("reproduce.sh");
    expect(files).toContain("params/params.json");
    expect(files.filter((f) => f.startsWith("cache/"))).toHaveLength(10);
    const env = JSON.parse(readFileSync(path.join(folder, "environment.json"), "utf8"));
    expect(env.node).toBe(process.version);
    expect(env.lockfile.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(path.join(folder, "reproduce.sh"), "utf8")).toContain("labbook run /abs/squares.ts -p params/params.json --data . --cache-dir cache");
    calls.length = 0;
    const again = await runPipeline(options(folder));
    expect(calls).toEqual([]);
    expect(again.records.every((r) => r.stages.every((s) => s.status === "cached"))).toBe(true);
  });

  it("progress is one plain line per stage when not on a terminal, and a rewritten line on one", async () => {
    const plain: string[] = [];
    await runPipeline(options(tempDir(), { progress: { isTTY: false, write: (t) => plain.push(t) } }));
    expect(plain.filter((l) => /^\[\d+\/5\] /.test(l))).toHaveLength(5);
    expect(plain.join("")).not.toContain("\x1b");
    const tty: string[] = [];
    await runPipeline(options(tempDir(), { progress: { isTTY: true, write: (t) => tty.push(t) } }));
    expect(tty.filter((t) => t.startsWith("\r\x1b[K")).length).toBe(10);
  });
});

describe("the HTML report", () => {
  it("has the parameter sets with hashes, an SVG stage graph per record, output summaries and what stages reported", async () => {
    const dir = tempDir();
    await runPipeline(options(dir));
    const html = readFileSync(path.join(dir, "reports", "squares_1.html"), "utf8");
    const { document } = parseHTML(html);
    expect(document.querySelector("title")?.textContent).toBe("squares run 1");
    // Opens from disk with no network: no script, no external resource.
    expect(document.querySelectorAll("script")).toHaveLength(0);
    for (const el of document.querySelectorAll("[src], link[href]")) expect(el.getAttribute("src") ?? el.getAttribute("href")).not.toMatch(/^(https?:)?\/\//);
    const rows = [...document.querySelectorAll("table.parameter-sets tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent));
    expect(rows).toEqual([
      ["small", parameterHash({ n: 3, fail: false }, schema).slice(0, 12), "3", "false"],
      ["big", parameterHash({ n: 5, fail: false }, schema).slice(0, 12), "5", "false"],
    ]);
    const small = document.querySelector('section.record[data-record="small"]');
    expect(small?.getAttribute("data-hash")).toBe(parameterHash({ n: 3, fail: false }, schema));
    const stages = [...(small?.querySelectorAll("svg.stage-graph g.stage") ?? [])].map(
      (g) => `${g.getAttribute("data-stage")}:${g.getAttribute("data-status")}`,
    );
    expect(stages).toEqual(["make:computed", "fit:computed"]);
    const outputs = [...(small?.querySelectorAll("svg.stage-graph g.output") ?? [])].map((g) => g.getAttribute("data-output"));
    expect(outputs).toEqual(["xs", "model"]);
    const edges = [...(small?.querySelectorAll("svg.stage-graph path.edge") ?? [])].map((p) => `${p.getAttribute("data-from")}->${p.getAttribute("data-to")}`);
    expect(edges.sort()).toEqual(["fit->model", "make->xs", "xs->fit"]);
    const summaries = [...(small?.querySelectorAll("table.outputs tbody tr") ?? [])].map((tr) => tr.querySelectorAll("td")[3]?.textContent);
    expect(summaries).toEqual(["array (3)", "object {mean, keys}"]);
    const line = small?.querySelector('section.report-item[data-kind="line"] svg.line-chart');
    expect(line?.querySelectorAll("polyline.series")).toHaveLength(2);
    expect(line?.querySelector("polyline")?.getAttribute("points")?.split(" ")).toHaveLength(3);
    const agg = document.querySelector('section.record[data-record="aggregate"]');
    const bars = [...(agg?.querySelectorAll("svg.bar-chart g.bar") ?? [])].map((g) => [g.getAttribute("data-label"), g.getAttribute("data-value")]);
    expect(bars).toEqual([
      ["small", String(5 / 3)],
      ["big", "6"],
    ]);
    expect(agg?.querySelector('section.report-item[data-kind="text"] pre')?.textContent).toBe("<b>not markup</b>");
    expect(agg?.querySelector("b")).toBeNull();

    // A second run shows the cached stages as cached and lists both runs in the index.
    await runPipeline(options(dir));
    const second = parseHTML(readFileSync(path.join(dir, "reports", "squares_2.html"), "utf8")).document;
    const statuses = [...second.querySelectorAll("svg.stage-graph g.stage")].map((g) => g.getAttribute("data-status"));
    expect(statuses).toEqual(["cached", "cached", "cached", "cached", "cached"]);
    const index = parseHTML(readFileSync(path.join(dir, "reports", "index.html"), "utf8")).document;
    expect([...index.querySelectorAll("tr.run a")].map((a) => a.getAttribute("href")).sort()).toEqual(["squares_1.html", "squares_2.html"]);
    // The same page is the run experiment's "report" artifact.
    const project = await readProject(dir);
    expect(await project.experiments[0]?.loadArtifact("report")).toBe(html);
  });
});
