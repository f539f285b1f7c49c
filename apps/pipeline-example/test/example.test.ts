/**
 * The worked example through the real `labbook run` command: caching across runs, reruns after a
 * parameter change, --dry, --hashes, --parallel and a failing stage, all checked through the cache's
 * files and the project, never through log text.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parameterHash } from "@labbook/pipeline";
import { openProject } from "labbook";
import { afterAll, describe, expect, it } from "vitest";
import { parameters } from "../src/experiment.js";
import { appDir, baseParams, cacheFiles, experimentModule, labbookRun } from "./cli.js";

const tmp = mkdtempSync(path.join(tmpdir(), "labbook-pipeline-example-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = JSON.parse(readFileSync(baseParams, "utf8")) as Array<Record<string, unknown> & { name: string }>;
const hashOf = (set: Record<string, unknown>) => parameterHash(parameters.parse(set), parameters);

function paramsFile(name: string, sets: unknown[]): string {
  const file = path.join(tmp, name);
  writeFileSync(file, JSON.stringify(sets));
  return file;
}

type Meta = { stage: string; record: string; parameters: Record<string, unknown> };

/** The parsed _metadata.json sidecars among `files`. */
function metadata(files: Map<string, { content: string }>): Meta[] {
  return [...files].filter(([name]) => name.endsWith("_metadata.json")).map(([, f]) => JSON.parse(f.content) as Meta);
}

function count(entries: Meta[], field: "stage" | "record"): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of entries) out[m[field]] = (out[m[field]] ?? 0) + 1;
  return out;
}

function ok(result: ReturnType<typeof labbookRun>): void {
  expect(result.stderr + result.stdout).not.toMatch(/labbook: /);
  expect(result.code).toBe(0);
}

// Each test starts the command one or more times (tsx compiles the modules each time): allow for a loaded machine.
describe("the pipeline example", { timeout: 240_000 }, () => {
  const data = path.join(tmp, "data");
  const cache = path.join(data, "cache");

  it("computes every stage on the first run and skips every cached stage on the second", async () => {
    ok(labbookRun([experimentModule, "-p", baseParams, "--data", data]));
    const first = cacheFiles(cache);
    // The three sets share one data set and one split (same samples, noise, seed); each trains and
    // evaluates its own model; the aggregate has two outputs. Every output has its _metadata.json.
    const entries = metadata(first);
    expect(count(entries, "stage")).toEqual({ make_data: 1, split: 2, train: 6, evaluate: 3, compare: 2 });
    expect(first.size).toBe(14 * 2);
    expect(new Set(entries.filter((m) => m.stage === "train").map((m) => m.record))).toEqual(new Set(base.map((s) => s.name)));

    ok(labbookRun([experimentModule, "-p", baseParams, "--data", data]));
    const second = cacheFiles(cache);
    // Nothing new, nothing rewritten: the same files with the same modification times and contents.
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [name, file] of second) expect(file).toEqual(first.get(name));

    const project = await openProject(path.join(data, "project.json"), { mode: "r" });
    const runs = project.experiments.filter((e) => e.tags.includes("pipeline-run"));
    expect(runs.map((e) => [e.parameters.run_number, e.parameters.status])).toEqual([
      [1, "done"],
      [2, "done"],
    ]);
    // Metrics of the cached run equal the computed run's (read back from the cache).
    expect(runs[1]?.tests.map((t) => t.metrics)).toEqual(runs[0]?.tests.map((t) => t.metrics));
    expect(runs[1]?.metrics.best_accuracy).toBeGreaterThan(0.5);
    expect(existsSync(path.join(data, "reports", "toy-classifier_2.html"))).toBe(true);
  });

  it("reruns only what depends on a changed parameter", () => {
    const before = cacheFiles(cache);
    const changed = base.map((s) => (s.name === "fast" ? { ...s, lr: 0.3 } : s));
    ok(labbookRun([experimentModule, "-p", paramsFile("changed.json", changed), "--data", data]));
    const after = cacheFiles(cache);
    for (const [name, file] of before) expect(after.get(name)).toEqual(file);
    const added = new Map([...after].filter(([k]) => !before.has(k)));
    // Only what depends on lr: fast's training and evaluation, and the aggregate. The data and the
    // split (which do not use lr) and the other sets stay as they were.
    const entries = metadata(added);
    expect(count(entries, "stage")).toEqual({ train: 2, evaluate: 1, compare: 2 });
    expect(added.size).toBe(5 * 2);
    expect(new Set(entries.map((m) => m.record))).toEqual(new Set(["fast", "aggregate"]));
    expect(entries.find((m) => m.stage === "train")?.parameters).toEqual({ lr: 0.3, epochs: 40, l2: 0 });
    expect(hashOf(changed[1] as Record<string, unknown>)).not.toBe(hashOf(base[1] as Record<string, unknown>));
  });

  it("a field marked notHashed changes nothing in the cache", () => {
    const before = cacheFiles(cache);
    const chatty = base.map((s) => ({ ...s, logEvery: 1 }));
    ok(labbookRun([experimentModule, "-p", paramsFile("chatty.json", chatty), "--data", data]));
    expect(cacheFiles(cache)).toEqual(before);
  });

  it("--overwrite-stage reruns that stage only; --store-full, --notes and --no-report", async () => {
    const before = cacheFiles(cache);
    const result = labbookRun([
      experimentModule,
      "-p",
      baseParams,
      "--data",
      data,
      "--overwrite-stage",
      "train",
      "--store-full",
      "--notes",
      "retrain",
      "--no-report",
    ]);
    ok(result);
    const after = cacheFiles(cache);
    expect([...after.keys()]).toEqual([...before.keys()]);
    const rewritten = [...after].filter(([name, f]) => f.mtimeMs !== before.get(name)?.mtimeMs).map(([name]) => name.replace(/_[0-9a-f]{64}_/, "_"));
    expect(rewritten.sort()).toEqual(
      ["train_losses.json", "train_losses_metadata.json", "train_model.json", "train_model_metadata.json"]
        .flatMap((f) => [f, f, f])
        .map((f) => `toy-classifier_${f}`)
        .sort(),
    );
    const project = await openProject(path.join(data, "project.json"), { mode: "r" });
    const run = project.experiments.at(-1);
    expect(run?.parameters.notes).toBe("retrain");
    expect(run?.artifacts.some((a) => a.name === "report")).toBe(false);
    expect(existsSync(path.join(data, "reports", `toy-classifier_${run?.parameters.run_number}.html`))).toBe(false);
    const folder = readdirSync(path.join(data, "runs")).find((d) => d.startsWith(`toy-classifier_${run?.parameters.run_number}_`));
    expect(folder).toBeDefined();
    const full = path.join(data, "runs", folder as string);
    expect(readdirSync(path.join(full, "cache"))).toHaveLength(28);
    expect(readFileSync(path.join(full, "reproduce.sh"), "utf8")).toContain(`labbook run ${experimentModule} -p params/base.json --data . --cache-dir cache`);
    expect(JSON.parse(readFileSync(path.join(full, "environment.json"), "utf8")).lockfile.file).toMatch(/pnpm-lock\.yaml$/);
  });

  it("--dry prints the plan and writes nothing", () => {
    const fresh = path.join(tmp, "dry");
    const result = labbookRun([experimentModule, "-p", baseParams, "--data", fresh, "--dry"]);
    ok(result);
    expect(existsSync(fresh)).toBe(false);
    expect(result.stdout.split("\n").filter((l) => l.startsWith("run "))).toHaveLength(17);
    const before = cacheFiles(cache);
    const project = readFileSync(path.join(data, "project.json"), "utf8");
    const cached = labbookRun([experimentModule, "-p", baseParams, "--data", data, "--dry"]);
    ok(cached);
    expect(cacheFiles(cache)).toEqual(before);
    expect(readFileSync(path.join(data, "project.json"), "utf8")).toBe(project);
    // Only the stages without cachers (metrics per record, summary) would run.
    expect(cached.stdout).toMatch(/^4 stage\(s\) would run, 13 cached/m);
  });

  it("--hashes prints each parameter set's hash", () => {
    const result = labbookRun([experimentModule, "-p", baseParams, "--hashes", "--data", path.join(tmp, "hashes")]);
    ok(result);
    const lines = result.stdout.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual(base.map((s) => `${s.name}\t${hashOf(s)}`));
    expect(existsSync(path.join(tmp, "hashes"))).toBe(false);
  });

  it("--parallel 4 gives the same cache and project as a serial run", async () => {
    const sets = [...base, { ...base[0], name: "fourth", seed: 11 }];
    const file = paramsFile("four.json", sets);
    const serial = path.join(tmp, "serial");
    const parallel = path.join(tmp, "parallel");
    ok(labbookRun([experimentModule, "-p", file, "--data", serial]));
    ok(labbookRun([experimentModule, "-p", file, "--data", parallel, "--parallel", "4"]));
    const a = cacheFiles(path.join(serial, "cache"));
    const b = cacheFiles(path.join(parallel, "cache"));
    expect([...b.keys()]).toEqual([...a.keys()]);
    // The fourth set has its own seed, so its own data set and split.
    expect(a.size).toBe((2 + 4 + 8 + 4 + 2) * 2);
    for (const [name, file] of a) {
      const other = b.get(name)?.content ?? "";
      if (name.endsWith("_metadata.json")) {
        // An entry two sets share names whichever record made it first: in parallel, any of them.
        const strip = (text: string) => ({ ...JSON.parse(text), created_at: null, record: null });
        expect(strip(other)).toEqual(strip(file.content));
      } else expect(other).toBe(file.content);
    }
    const load = async (dir: string) => {
      const project = await openProject(path.join(dir, "project.json"), { mode: "r" });
      const exp = project.experiments[0];
      return {
        metrics: exp?.metrics,
        tests: exp?.tests.map((t) => ({ name: t.name, parameters: t.parameters, metrics: t.metrics })),
        artifacts: exp?.artifacts.map((x) => x.name).sort(),
        status: exp?.parameters.status,
        workers: exp?.parameters.workers,
        comparison: await exp?.loadArtifact("comparison"),
      };
    };
    const [p, q] = [await load(parallel), await load(serial)];
    expect([p.workers, q.workers]).toEqual([4, 1]);
    expect({ ...p, workers: 1 }).toEqual(q);
  });

  it("a failing stage exits 1 naming the stage, marks the run failed and keeps what was cached", async () => {
    const dir = path.join(tmp, "failing");
    const result = labbookRun([path.join(appDir, "test", "fixtures", "failing.ts"), "-p", "only", "--data", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/labbook: Stage "explode" failed for record "only" .*the reactor overheated \[STAGE_FAILED\]/);
    const project = await openProject(path.join(dir, "project.json"), { mode: "r" });
    expect(project.experiments[0]?.parameters.status).toBe("failed");
    expect(readdirSync(path.join(dir, "cache")).filter((f) => f.includes("_prepare_rows"))).toHaveLength(2);

    // The same from worker processes.
    const parallelDir = path.join(tmp, "failing-parallel");
    const fixture = path.join(appDir, "test", "fixtures", "failing.ts");
    const parallel = labbookRun([fixture, "-p", "only", "-p", "another", "--data", parallelDir, "--parallel", "2"]);
    expect(parallel.code).toBe(1);
    expect(parallel.stderr).toMatch(/labbook: Stage "explode" failed for record "(only|another)" .*the reactor overheated \[STAGE_FAILED\]/);
    const p2 = await openProject(path.join(parallelDir, "project.json"), { mode: "r" });
    expect([p2.experiments[0]?.parameters.status, p2.experiments[0]?.parameters.workers]).toEqual(["failed", 2]);
    expect(readdirSync(path.join(parallelDir, "cache")).filter((f) => f.includes("_prepare_rows"))).toHaveLength(2);
  });

  it("bad usage exits 2 before running anything", () => {
    const dir = path.join(tmp, "usage");
    const unknown = labbookRun([experimentModule, "-p", "nonesuch", "--data", dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/-p nonesuch: no such file/);
    const badParallel = labbookRun([experimentModule, "-p", baseParams, "--parallel", "0", "--data", dir]);
    expect(badParallel.code).toBe(2);
    const badSet = labbookRun([experimentModule, "-p", paramsFile("bad.json", [{ name: "x", samples: 1 }]), "--data", dir]);
    expect(badSet.code).toBe(1);
    expect(badSet.stderr).toMatch(/\[INVALID_ARGUMENT\]/);
    expect(existsSync(dir)).toBe(false);
  });
});
