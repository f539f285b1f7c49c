// `pnpm bench`: the same workloads on labbook and on Python lazyscribe 2.2, each workload in its own
// process (so peak RSS is per workload), plus the raw floors, scaling runs and the machine.
// Writes bench/results/latest.json (or --out) and prints it.
//
//   node bench/run.mjs                 N = 2000, scaling at 500/2000/10000/50000, 1 GiB workload 7
//   node bench/run.mjs --quick --n 50  smoke run: one small N, no scaling, 8 MiB workload 7
//   node bench/run.mjs --n 5000        another main N
//
// Env: LABBOOK_BENCH_LAZYSCRIBE_MAX_N (default 2000) caps lazyscribe's scaling runs (10000 adds ~5 min, 50000
// ~20 min on a 2-core machine), so the default run stays under 10 minutes.
// LABBOOK_BENCH_DIR picks the scratch folder (default: a new folder in the OS temp dir, removed after).
// LABBOOK_BENCH_SKIP_SETUP=1 skips the venv setup and build (the smoke test does both itself).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    n: { type: "string" },
    out: { type: "string" },
    "no-lazyscribe": { type: "boolean", default: false },
  },
});
const quick = args.quick;
const N = Number(args.n ?? (quick ? 50 : 2000));
const SCALING = quick ? [] : [500, 2000, 10000, 50000];
const LAZY_MAX_N = Number(process.env.LABBOOK_BENCH_LAZYSCRIBE_MAX_N ?? 2000);
const outFile = path.resolve(args.out ?? path.join(here, "results", "latest.json"));
const python = path.join(process.env.LABBOOK_VENV ?? path.join(repoRoot, ".venv"), "bin", "python");
const withLazyscribe = !args["no-lazyscribe"];

function log(message) {
  process.stderr.write(`${message}\n`);
}

function setup() {
  if (process.env.LABBOOK_BENCH_SKIP_SETUP === "1") return;
  if (withLazyscribe) execFileSync("bash", [path.join(repoRoot, "tooling/ci/setup.sh")], { stdio: ["ignore", 2, 2] });
  const filters = ["@labbook/core", "@labbook/storage-local"];
  if (existsSync(path.join(repoRoot, "packages/repository/src/index.ts"))) filters.push("@labbook/repository");
  execFileSync("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only", ...filters.flatMap((f) => ["--filter", f])], {
    cwd: repoRoot,
    stdio: ["ignore", 2, 2],
  });
}

/** Run one workload in a fresh process; returns its JSON line. */
function runWorker(side, workload, n, dir) {
  const [cmd, script] = side === "labbook" ? [process.execPath, path.join(here, "labbook_worker.mjs")] : [python, path.join(here, "lazyscribe_bench.py")];
  const result = spawnSync(cmd, [script, workload, String(n), dir], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${side} ${workload} (N=${n}) failed:\n${result.stderr}`);
  const line = result.stdout.trim().split("\n").at(-1);
  return JSON.parse(line);
}

function machine() {
  const pythonVersion = withLazyscribe
    ? spawnSync(python, ["-c", "import sys, lazyscribe; print(sys.version.split()[0], lazyscribe.__version__)"], { encoding: "utf8" }).stdout.trim().split(" ")
    : [];
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.availableParallelism(),
    memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: pythonVersion[0] ?? null,
    lazyscribe: pythonVersion[1] ?? null,
    load_average: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const round = (x, digits = 4) => (x === null || x === undefined ? null : Math.round(x * 10 ** digits) / 10 ** digits);
const ratio = (a, b) => (a && b ? round(a / b, 2) : null);

/** One pass over workloads 1–6 at size n, each side in its own scratch folders. */
function pass(n, scratch, { lazyscribe, workloads = ["w1", "w2", "w3", "w4", "w5"] }) {
  const lbDir = path.join(scratch, `labbook-${n}`);
  const lzDir = path.join(scratch, `lazyscribe-${n}`);
  mkdirSync(lbDir, { recursive: true });
  mkdirSync(lzDir, { recursive: true });
  const rows = {};
  for (const w of workloads) {
    log(`  ${w} N=${n} labbook`);
    const lb = runWorker("labbook", w, n, lbDir);
    let lz;
    if (lazyscribe) {
      log(`  ${w} N=${n} lazyscribe`);
      lz = runWorker("lazyscribe", w, n, lzDir);
    }
    rows[w] = { lb, lz };
    // Floors are measured right after workload 1, on labbook's project.json (before workload 3 adds one).
    if (w === "w1") {
      log(`  w6 N=${n} floors`);
      rows.w6 = { lb: runWorker("labbook", "w6", n, lbDir) };
    }
  }
  return rows;
}

function summarise(rows, n) {
  const floors = rows.w6?.lb.parts;
  const floorFor = {
    w1: floors && floors.stringify_write_s + floors.artifacts_write_s,
    w2: floors?.read_parse_s,
    w3: floors && floors.read_parse_s + floors.stringify_write_s,
  };
  const out = {};
  for (const [w, { lb, lz }] of Object.entries(rows)) {
    const entry = {
      labbook_s: w === "w6" ? null : round(lb.seconds),
      lazyscribe_s: round(lz?.seconds ?? null),
      floor_s: round(w === "w6" ? lb.seconds : (floorFor[w] ?? null)),
      peak_rss_mb: round(lb.peak_rss_mb, 1),
      lazyscribe_peak_rss_mb: round(lz?.peak_rss_mb ?? null, 1),
    };
    if (entry.labbook_s !== null) entry.per_experiment_ms = round((lb.seconds / n) * 1000, 5);
    if (lb.parts) entry.parts = Object.fromEntries(Object.entries(lb.parts).map(([k, v]) => [k, round(v)]));
    if (lz && lb.seconds !== null) entry.speedup_vs_lazyscribe = ratio(lz.seconds, lb.seconds);
    if (entry.floor_s && entry.labbook_s) entry.times_floor = ratio(entry.labbook_s, entry.floor_s);
    if (lz && lb.seconds !== null && lb.check !== lz.check) entry.check_mismatch = { labbook: lb.check, lazyscribe: lz.check };
    out[w] = entry;
  }
  return out;
}

function targets(workloads, scaling, w7) {
  const get = (w, k) => workloads[w]?.[k] ?? null;
  const perExp = (n, w) => scaling.find((s) => s.n === n)?.workloads[w]?.per_experiment_ms ?? null;
  const check = (value, ok, goal) => ({ value, goal, met: value === null ? null : ok(value) });
  const t = {
    w2_times_floor: check(get("w2", "times_floor"), (v) => v <= 3, "<= 3"),
    w2_speedup_vs_lazyscribe: check(get("w2", "speedup_vs_lazyscribe"), (v) => v >= 40, ">= 40"),
    w1_speedup_vs_lazyscribe: check(get("w1", "speedup_vs_lazyscribe"), (v) => v >= 15, ">= 15"),
    w3_times_floor: check(get("w3", "times_floor"), (v) => v <= 3, "<= 3"),
    w5_speedup_vs_lazyscribe: check(get("w5", "speedup_vs_lazyscribe"), (v) => v >= 20, ">= 20"),
  };
  for (const w of ["w1", "w2", "w3"]) {
    const a = perExp(2000, w);
    const b = perExp(50000, w);
    t[`${w}_scaling_50000_vs_2000`] = check(ratio(b, a), (v) => v <= 1.5, "<= 1.5");
  }
  if (w7) {
    t.w7_save_vs_dd_write = check(ratio(w7.parts.save_mb_s, w7.parts.dd_write_mb_s), (v) => v >= 0.7, ">= 0.7");
    t.w7_load_vs_dd_read = check(ratio(w7.parts.load_mb_s, w7.parts.dd_read_mb_s), (v) => v >= 0.7, ">= 0.7");
    t.w7_peak_rss_mb = check(w7.peak_rss_mb, (v) => v < 200, "< 200");
  }
  return t;
}

async function main() {
  const started = Date.now();
  setup();
  const scratch = process.env.LABBOOK_BENCH_DIR ? path.resolve(process.env.LABBOOK_BENCH_DIR) : mkdtempSync(path.join(os.tmpdir(), "labbook-bench-"));
  mkdirSync(scratch, { recursive: true });
  try {
    log(`main run, N=${N}, scratch ${scratch}`);
    const workloads = summarise(pass(N, path.join(scratch, "main"), { lazyscribe: withLazyscribe }), N);

    log("w7: 1 GiB bytes artifact against dd");
    const w7env = quick ? { LABBOOK_BENCH_W7_BYTES: String(8 * 1024 * 1024) } : {};
    Object.assign(process.env, w7env);
    const w7raw = runWorker("labbook", "w7", 1, path.join(scratch, "w7"));
    const w7 = {
      labbook_s: round(w7raw.seconds),
      lazyscribe_s: null,
      floor_s: round(w7raw.floor_seconds),
      peak_rss_mb: round(w7raw.peak_rss_mb, 1),
      parts: Object.fromEntries(Object.entries(w7raw.parts).map(([k, v]) => [k, round(v, 2)])),
    };
    workloads.w7 = w7;

    const scaling = [];
    for (const n of SCALING) {
      log(`scaling run, N=${n}`);
      const lazy = withLazyscribe && n <= LAZY_MAX_N;
      const rows = n === N ? null : pass(n, path.join(scratch, `scaling-${n}`), { lazyscribe: lazy, workloads: ["w1", "w2", "w3"] });
      const summary = rows ? summarise(rows, n) : Object.fromEntries(["w1", "w2", "w3", "w6"].map((w) => [w, workloads[w]]));
      scaling.push({ n, lazyscribe: n === N ? withLazyscribe : lazy, workloads: summary });
      rmSync(path.join(scratch, `scaling-${n}`), { recursive: true, force: true });
    }

    const report = {
      generated_at: new Date().toISOString().slice(0, 19),
      command: `node bench/run.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`,
      quick,
      n: N,
      machine: machine(),
      workloads,
      scaling,
      targets: targets(workloads, scaling, w7),
      notes: {
        w1: "log N experiments (20 metrics, 20 string parameters, 2 tags, 2 small json artifacts each) and save; floor = stringify+write project.json + write the artifact files with plain fs",
        w2: "open read-only, read one metric of every experiment; floor = read + JSON.parse project.json",
        w3: "open in append mode, log one more, save; floor = read + parse + stringify + write project.json",
        w4: "100 look-ups by short slug on a project opened read-only (the open is not timed)",
        w5: "repository: N versions over 50 names, save, open read-only, 50 as-of loads",
        w6: "the raw floors (parts), measured on labbook's project.json after workload 1",
        w7: "one bytes artifact streamed to local storage and back (sha256 checked); floor = dd write (conv=fsync) + dd read of the same size on the same disk",
        lazyscribe_scaling: `lazyscribe runs only up to N = ${LAZY_MAX_N} in scaling (LABBOOK_BENCH_LAZYSCRIBE_MAX_N)`,
      },
      total_s: round((Date.now() - started) / 1000, 1),
    };
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), outFile)}`);
  } finally {
    if (!process.env.LABBOOK_BENCH_DIR) rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
