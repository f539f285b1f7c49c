// The pipeline's own overhead: 20 no-op stages (each caches one small json output and reads the
// previous one) over 100 parameter sets, timed when everything is already cached. Runs on the built
// packages (it builds them unless LABBOOK_BENCH_SKIP_SETUP=1).
//
//   node bench/pipeline-overhead.mjs [--stages 20] [--sets 100] [--repeat 5]
//
// Writes bench/results/pipeline-overhead.json and bench/results/pipeline-overhead.svg (the figure).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const { values: args } = parseArgs({
  options: { stages: { type: "string", default: "20" }, sets: { type: "string", default: "100" }, repeat: { type: "string", default: "5" } },
});
const STAGES = Number(args.stages);
const SETS = Number(args.sets);
const REPEAT = Number(args.repeat);

if (process.env.LABBOOK_BENCH_SKIP_SETUP !== "1") {
  execFileSync("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only", "--filter", "@labbook/pipeline", "--filter", "@labbook/storage-local"], {
    cwd: repoRoot,
    stdio: ["ignore", 2, 2],
  });
}

const { MemoryStorage } = await import(path.join(repoRoot, "packages/core/dist/index.js"));
const { LocalStorage } = await import(path.join(repoRoot, "packages/storage-local/dist/index.js"));
const pipeline = await import(path.join(repoRoot, "packages/pipeline/dist/index.js"));
const { z } = await import(path.join(repoRoot, "packages/pipeline/node_modules/zod/index.js"));
const { Cache, cachers, defineExperiment, runAggregates, runPipeline, runRecord, stage, barChartSvg } = pipeline;

const stages = Array.from({ length: STAGES }, (_, i) =>
  stage(
    { name: `s${i}`, inputs: i === 0 ? [] : [`o${i - 1}`], outputs: [`o${i}`], cachers: [cachers.json()] },
    // No-op: the work is the pipeline's own (hashing, cache look-ups, metadata, bookkeeping).
    (_inputs, record) => ({ [`o${i}`]: record.params.k }),
  ),
);
const experiment = defineExperiment({ name: "bench", parameters: z.object({ k: z.number(), tag: z.string() }), stages });
const sets = Array.from({ length: SETS }, (_, k) => ({ name: `p${k}`, k, tag: `set-${k}` }));
const provenance = { labbookVersion: "bench", gitCommit: null, gitDirty: null };

async function recordsOnly(storage) {
  const context = { cache: new Cache(storage, { prefix: "bench" }), provenance, schema: experiment.parameters };
  const t0 = performance.now();
  const records = [];
  for (const set of sets) records.push(await runRecord(experiment, set, context));
  await runAggregates(experiment, records, context);
  const ms = performance.now() - t0;
  const statuses = records.flatMap((r) => r.stages.map((s) => s.status));
  return { ms, cached: statuses.filter((s) => s === "cached").length, total: statuses.length };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const dir = mkdtempSync(path.join(os.tmpdir(), "labbook-pipeline-bench-"));
const result = { stages: STAGES, parameter_sets: SETS, stage_runs: STAGES * SETS, repeat: REPEAT, node: process.version, cpus: os.cpus().length, cases: {} };
try {
  for (const [label, make] of [
    ["memory", () => new MemoryStorage()],
    ["local", () => new LocalStorage(path.join(dir, "local"))],
  ]) {
    const storage = make();
    const fill = await recordsOnly(storage);
    const times = [];
    let last;
    for (let i = 0; i < REPEAT; i++) {
      last = await recordsOnly(storage);
      times.push(last.ms);
    }
    if (last.cached !== last.total) throw new Error(`${label}: expected every stage cached, got ${last.cached}/${last.total}`);
    result.cases[`${label}: first run (computing)`] = { ms: Math.round(fill.ms) };
    result.cases[`${label}: all cached`] = { ms: Math.round(median(times)), per_stage_us: Math.round((median(times) / (STAGES * SETS)) * 1000) };
  }
  // The whole runner on local disk, all cached: project logging (100 tests), report and index included.
  const data = new LocalStorage(path.join(dir, "full"));
  const quiet = { isTTY: false, write: () => {} };
  const opts = { experiment, parameterSets: sets.map((set) => ({ set, source: "bench" })), data, progress: quiet, out: () => {} };
  await runPipeline(opts);
  const full = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    await runPipeline(opts);
    full.push(performance.now() - t0);
  }
  result.cases["local: runPipeline all cached (with project and report)"] = { ms: Math.round(median(full)) };
} finally {
  rmSync(dir, { recursive: true, force: true });
}

mkdirSync(path.join(here, "results"), { recursive: true });
writeFileSync(path.join(here, "results", "pipeline-overhead.json"), `${JSON.stringify(result, null, 2)}\n`);
// Short labels: the figure's bars are narrow.
const short = ["mem fill", "mem cached", "disk fill", "disk cached", "run cached"];
const bars = Object.fromEntries(Object.values(result.cases).map((v, i) => [short[i], v.ms]));
const chart = barChartSvg({ kind: "bar", title: "pipeline overhead", bars, yLabel: "ms" });
const caption = `${STAGES} no-op stages × ${SETS} parameter sets, median of ${REPEAT} (ms); run = runPipeline with project and report`;
writeFileSync(
  path.join(here, "results", "pipeline-overhead.svg"),
  `<svg xmlns="http://www.w3.org/2000/svg" width="620" height="290"><text x="10" y="16" font-size="12" font-family="sans-serif">${caption}</text><g transform="translate(0,24)">${chart}</g></svg>\n`,
);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
