// `pnpm bench`: the same workloads on labbook, on its honest floors (bench/floors.mjs) and on Python
// lazyscribe 2.2 (and MLflow 3's client with --with-mlflow), each run in its own process. Floor and
// labbook runs alternate (floor, labbook, floor, labbook...), --runs times each; the report keeps the
// median, min, max and every run, the load average at the start and end, and the machine.
// Writes bench/results/latest.json (or --out); prints the README tables (bench/table.mjs).
//
//   node bench/run.mjs                 N = 2000, 5 runs, append at 2000/10000/50000, 1 GiB artifact
//   node bench/run.mjs --with-mlflow   and MLflow's sqlite store on workloads 1, 2, 3 and 5 (lazyscribe's
//                                      append then also runs at 10000 and 50000)
//   node bench/run.mjs --quick         smoke run: N = 50, 2 runs, no large N, 8 MiB artifact
//
// Options: --n N, --runs R (floor and labbook runs each), --lazyscribe-runs R (default 1: lazyscribe
// takes seconds per workload, so its run-to-run spread matters less), --append-n 2000,10000,50000,
// --large-mib MiB, --no-lazyscribe, --out FILE.
// Env: LABBOOK_BENCH_LAZYSCRIBE_VENV picks lazyscribe's venv (default .cache/bench-lazyscribe-venv, made
// by tooling/ci/setup-bench.sh with lazyscribe alone); LABBOOK_BENCH_LAZYSCRIBE_MAX_N caps lazyscribe's append runs (default 2000, or 50000 with
// --with-mlflow); LABBOOK_BENCH_DIR picks the scratch folder (default: a new folder in the OS temp
// dir, removed after); LABBOOK_BENCH_SKIP_SETUP=1 skips the venv setup and build.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { goals, interleave, loadAverage, machine, round, summarize } from "./lib.mjs";
import { renderTables } from "./table.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    n: { type: "string" },
    runs: { type: "string" },
    "lazyscribe-runs": { type: "string" },
    "append-n": { type: "string" },
    "large-mib": { type: "string" },
    out: { type: "string" },
    "no-lazyscribe": { type: "boolean", default: false },
    "with-mlflow": { type: "boolean", default: false },
  },
});
const quick = args.quick;
const N = Number(args.n ?? (quick ? 50 : 2000));
const RUNS = Number(args.runs ?? (quick ? 2 : 5));
const LAZY_RUNS = Number(args["lazyscribe-runs"] ?? 1);
const withLazyscribe = !args["no-lazyscribe"];
const withMlflow = args["with-mlflow"];
const APPEND_N = [...new Set([N, ...(args["append-n"] ?? (quick ? "" : "10000,50000")).split(",").filter(Boolean).map(Number)])].sort((a, b) => a - b);
const LAZY_MAX_N = Number(process.env.LABBOOK_BENCH_LAZYSCRIBE_MAX_N ?? (withMlflow ? 50000 : N));
const LARGE_BYTES = Math.round(Number(args["large-mib"] ?? (quick ? 8 : 1024)) * 1024 * 1024);
const outFile = path.resolve(args.out ?? path.join(here, "results", "latest.json"));
const venv = process.env.LABBOOK_VENV ?? path.join(repoRoot, ".venv");
const python = path.join(venv, "bin", "python");
// lazyscribe runs in a venv of its own (tooling/ci/setup-bench.sh): its loads scan every installed
// distribution's entry points, so the project's .venv (moto, MLflow...) would slow it several times.
const lazyVenv = path.resolve(process.env.LABBOOK_BENCH_LAZYSCRIBE_VENV ?? path.join(repoRoot, ".cache", "bench-lazyscribe-venv"));
const lazyPython = path.join(lazyVenv, "bin", "python");
const cli = path.join(repoRoot, "packages/labbook/dist/cli.js");
const TIMEOUT_MS = 30 * 60 * 1000;

for (const [name, value] of Object.entries({ n: N, runs: RUNS, "lazyscribe-runs": LAZY_RUNS, "large-mib": LARGE_BYTES })) {
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench: --${name} must be a whole number of at least 1 (got ${value}).\n`);
    process.exit(2);
  }
}

const started = performance.now();
const elapsed = () => `${Math.round((performance.now() - started) / 1000)}s`.padStart(5);
function log(message) {
  process.stderr.write(`${elapsed()} ${message}\n`);
}

function setup() {
  if (process.env.LABBOOK_BENCH_SKIP_SETUP === "1") return;
  if (withLazyscribe || withMlflow) execFileSync("bash", [path.join(repoRoot, "tooling/ci/setup.sh")], { stdio: ["ignore", 2, 2] });
  if (withLazyscribe) {
    execFileSync("bash", [path.join(repoRoot, "tooling/ci/setup-bench.sh")], {
      stdio: ["ignore", 2, 2],
      env: { ...process.env, LABBOOK_BENCH_LAZYSCRIBE_VENV: lazyVenv },
    });
  }
  log("building core, storage-local, repository and the labbook CLI (turbo, cached when unchanged)");
  const filters = ["@labbook/core", "@labbook/storage-local", "@labbook/repository", "labbook"];
  execFileSync("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only", ...filters.flatMap((f) => ["--filter", f])], {
    cwd: repoRoot,
    stdio: ["ignore", 2, 2],
  });
}

/** Python's, lazyscribe's and MLflow's versions, and how many distributions each venv holds. */
function pythonVersions() {
  const ask = (bin, module) => {
    const script = `import sys, json, importlib.metadata as m
try:
    version = __import__("${module}").__version__
except Exception:
    version = None
print(json.dumps({"python": sys.version.split()[0], "version": version, "distributions": len(list(m.distributions()))}))`;
    const result = spawnSync(bin, ["-c", script], { encoding: "utf8", timeout: 120_000 });
    return result.status === 0 ? JSON.parse(result.stdout) : { python: null, version: null, distributions: null };
  };
  const lz = withLazyscribe ? ask(lazyPython, "lazyscribe") : { python: null, version: null, distributions: null };
  const ml = ask(python, "mlflow");
  return {
    python: lz.python ?? ml.python,
    lazyscribe: lz.version,
    lazyscribe_venv: withLazyscribe ? { path: path.relative(repoRoot, lazyVenv) || lazyVenv, distributions: lz.distributions } : null,
    mlflow: withMlflow ? ml.version : null,
    mlflow_venv: withMlflow ? { path: path.relative(repoRoot, venv) || venv, distributions: ml.distributions } : null,
  };
}

/** Run one workload of one side in a fresh process; returns its JSON line. */
function runWorker(side, workload, n, dir, env = {}) {
  const commands = {
    labbook: [process.execPath, path.join(here, "labbook_worker.mjs")],
    lazyscribe: [lazyPython, path.join(here, "lazyscribe_bench.py")],
    mlflow: [python, path.join(here, "mlflow_bench.py")],
  };
  const [cmd, script] = commands[side];
  mkdirSync(dir, { recursive: true });
  const result = spawnSync(cmd, [script, workload, String(n), dir], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
    timeout: TIMEOUT_MS,
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) throw new Error(`${side} ${workload} (N=${n}) failed (${result.signal ?? `exit ${result.status}`}):\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1));
}

/**
 * The runs of one workload: floor and labbook alternate, `RUNS` rounds. `dirFor(side, run)` gives
 * each run its folder (a fresh one for workloads that create a project). Returns per side the list of
 * results.
 */
function alternate(label, sides, dirFor, n, env) {
  const results = Object.fromEntries(sides.map(([side]) => [side, []]));
  for (const { side, run } of interleave(
    sides.map(([side]) => side),
    RUNS,
  )) {
    const workload = sides.find(([s]) => s === side)[1];
    const r = runWorker(side === "floor" ? "labbook" : side, workload, n, dirFor(side, run), env);
    results[side].push(r);
    log(`  ${label} ${side.padEnd(7)} run ${run + 1}/${RUNS}: ${r.seconds.toFixed(3)} s`);
  }
  return results;
}

/** `runs` runs of a lazyscribe or MLflow workload, one after the other. */
function anchor(side, workload, n, dirFor, runs) {
  const results = [];
  for (let run = 0; run < runs; run++) {
    const r = runWorker(side, workload, n, dirFor(run));
    results.push(r);
    log(`  ${workload} ${side.padEnd(10)} run ${run + 1}/${runs}: ${r.seconds.toFixed(3)} s`);
  }
  return results;
}

/** Remove the finished runs' folders (untimed; thousands of files, so say so: on a busy disk it takes a while). */
function cleanUp(dir) {
  if (!existsSync(dir)) return;
  log(`  removing the finished runs' files (${path.basename(dir)}, not timed)`);
  // rm(1) removes tens of thousands of files about 3x faster than Node's recursive rmSync.
  const rm = spawnSync("rm", ["-rf", "--", dir], { stdio: "ignore", timeout: TIMEOUT_MS });
  if (rm.status !== 0) rmSync(dir, { recursive: true, force: true });
}

const seconds = (results) => summarize((results ?? []).map((r) => r.seconds));
const peak = (results) => (results?.length ? round(Math.max(...results.map((r) => r.peak_rss_mb)), 1) : null);
const lastCheck = (results) => results?.at(-1)?.check ?? null;

/** Time a command `RUNS` times, interleaved with the others (node -e 0, --help, ls). */
function startup(commands) {
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const { side, run } of interleave(Object.keys(commands), RUNS)) {
    const argv = commands[side];
    const t0 = performance.now();
    const result = spawnSync(process.execPath, argv, { encoding: "utf8", maxBuffer: 64 << 20, timeout: 120_000 });
    const s = (performance.now() - t0) / 1000;
    if (result.status !== 0) throw new Error(`node ${argv.join(" ")} failed (${result.signal ?? `exit ${result.status}`}):\n${result.stderr}`);
    times[side].push(s);
    log(`  cli ${side.padEnd(5)} run ${run + 1}/${RUNS}: ${(s * 1000).toFixed(0)} ms`);
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summarize(v)]));
}

const TITLES = {
  w1: `log ${N} and save`,
  w2: "open read-only, read a metric of each",
  w3: "open to append, log one, save",
  w4: "100 look-ups by short slug (open not timed)",
  w5: `repository: ${N} versions, save, 50 as-of loads`,
};

async function main() {
  setup();
  const scratch = process.env.LABBOOK_BENCH_DIR ? path.resolve(process.env.LABBOOK_BENCH_DIR) : mkdtempSync(path.join(os.tmpdir(), "labbook-bench-"));
  mkdirSync(scratch, { recursive: true });
  const loadStart = loadAverage();
  const versions = pythonVersions();
  if (withMlflow && !versions.mlflow) throw new Error(`--with-mlflow: ${python} cannot import mlflow; run bash tooling/ci/setup-tracking.sh first.`);
  if (withLazyscribe && !versions.lazyscribe)
    throw new Error(`${python} cannot import lazyscribe; run bash tooling/ci/setup.sh first (or pass --no-lazyscribe).`);
  try {
    log(`N=${N}, ${RUNS} runs, scratch ${scratch}, load ${JSON.stringify(loadStart)}`);
    const d = (...parts) => path.join(scratch, ...parts);
    const main = d("main", "labbook");
    const workloads = {};
    const fresh = (prefix) => (side, run) => {
      const dir = d("runs", `${prefix}-${side}-${run}`);
      rmSync(dir, { recursive: true, force: true });
      return dir;
    };

    // Workload 1: every run in a fresh folder; the last labbook project is kept for the others.
    log("workload 1: log and save");
    const w1 = alternate(
      "w1",
      [
        ["floor", "floor-w1"],
        ["labbook", "w1"],
      ],
      fresh("w1"),
      N,
    );
    rmSync(main, { recursive: true, force: true });
    mkdirSync(path.dirname(main), { recursive: true });
    renameSync(d("runs", `w1-labbook-${RUNS - 1}`), main);
    cleanUp(d("runs"));
    copyFileSync(path.join(main, "project.json"), d("main", "base-project.json"));
    workloads.w1 = { labbook: w1.labbook, floor: w1.floor };

    log("workload 2: open read-only, read a metric of each (floor reads the same project.json)");
    workloads.w2 = alternate(
      "w2",
      [
        ["floor", "floor-w2"],
        ["labbook", "w2"],
      ],
      () => main,
      N,
    );

    log("workload 4: 100 look-ups by short slug");
    workloads.w4 = alternate("w4", [["labbook", "w4"]], () => main, N);

    log(`command start-up: node -e 0, labbook --help, labbook ls on the ${N}-experiment project`);
    if (!existsSync(cli)) {
      log("  building the labbook CLI (packages/labbook/dist/cli.js is missing)");
      execFileSync("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only", "--filter", "labbook"], { cwd: repoRoot, stdio: ["ignore", 2, 2] });
    }
    const startupTimes = startup({ node: ["-e", "0"], help: [cli, "--help"], ls: [cli, "ls", main] });

    log("workload 5: repository versions");
    workloads.w5 = alternate(
      "w5",
      [
        ["floor", "floor-w5"],
        ["labbook", "w5"],
      ],
      fresh("w5"),
      N,
    );
    cleanUp(d("runs"));

    // Lazyscribe on its own project, then MLflow on its sqlite store (each once per --lazyscribe-runs / once).
    const lz = d("main", "lazyscribe");
    if (withLazyscribe) {
      log(`lazyscribe ${LAZY_RUNS} run(s) per workload`);
      const lzFresh = (w) => (run) => (run === LAZY_RUNS - 1 ? lz : d("runs", `lz-${w}-${run}`));
      workloads.w1.lazyscribe = anchor("lazyscribe", "w1", N, lzFresh("w1"), LAZY_RUNS);
      workloads.w2.lazyscribe = anchor("lazyscribe", "w2", N, () => lz, LAZY_RUNS);
      workloads.w4.lazyscribe = anchor("lazyscribe", "w4", N, () => lz, LAZY_RUNS);
      workloads.w5.lazyscribe = anchor("lazyscribe", "w5", N, (run) => d("runs", `lz-w5-${run}`), LAZY_RUNS);
      cleanUp(d("runs"));
    }
    const ml = d("main", "mlflow");
    if (withMlflow) {
      log("MLflow (sqlite store): creating the tables (not timed)");
      runWorker("mlflow", "init", 0, ml);
      workloads.w1.mlflow = anchor("mlflow", "w1", N, () => ml, 1);
      workloads.w2.mlflow = anchor("mlflow", "w2", N, () => ml, 1);
      runWorker("mlflow", "init", 0, d("main", "mlflow-repository"));
      workloads.w5.mlflow = anchor("mlflow", "w5", N, () => d("main", "mlflow-repository"), 1);
      copyFileSync(path.join(ml, "mlflow.db"), d("main", "mlflow-base.db"));
    }

    // Workload 3, append one, at every N: the floor reads and rewrites the same file labbook appends to.
    const append = [];
    for (const n of APPEND_N) {
      const dir = n === N ? main : d(`append-${n}`, "labbook");
      if (n !== N) {
        log(`append at N=${n}: building the starting project (not timed)`);
        const built = spawnSync(python, [path.join(here, "grow_project.py"), d("main", "base-project.json"), String(n), path.join(dir, "project.json")], {
          encoding: "utf8",
          timeout: TIMEOUT_MS,
        });
        if (built.status !== 0) throw new Error(`grow_project.py ${n} failed:\n${built.stderr}`);
      }
      const fileBytes = statSync(path.join(dir, "project.json")).size;
      const snapshot = d(`append-${n}`, "start.json");
      mkdirSync(path.dirname(snapshot), { recursive: true });
      copyFileSync(path.join(dir, "project.json"), snapshot);
      log(`append at N=${n} (${(fileBytes / 1e6).toFixed(1)} MB)`);
      const r = alternate(
        `w3 N=${n}`,
        [
          ["floor", "floor-w3"],
          ["labbook", "w3"],
        ],
        () => dir,
        n,
      );
      const entry = { n, file_bytes: fileBytes, labbook: r.labbook, floor: r.floor, labbook_peak_rss_mb: peak(r.labbook) };
      if (withLazyscribe && n <= LAZY_MAX_N) {
        const lzDir = n === N ? lz : d(`append-${n}`, "lazyscribe");
        if (n !== N) {
          mkdirSync(lzDir, { recursive: true });
          copyFileSync(snapshot, path.join(lzDir, "project.json"));
        }
        entry.lazyscribe = anchor("lazyscribe", "w3", n, () => lzDir, LAZY_RUNS);
      }
      if (withMlflow) {
        const mlDir = n === N ? ml : d(`append-${n}`, "mlflow");
        if (n !== N) {
          log(`MLflow at N=${n}: copying runs into the store (not timed)`);
          mkdirSync(mlDir, { recursive: true });
          copyFileSync(d("main", "mlflow-base.db"), path.join(mlDir, "mlflow.db"));
          runWorker("mlflow", "grow", n, mlDir);
        }
        entry.mlflow = anchor("mlflow", "w3", n, () => mlDir, 1);
      }
      append.push(entry);
      if (n !== N) rmSync(d(`append-${n}`), { recursive: true, force: true });
    }
    const atN = append.find((a) => a.n === N);
    workloads.w3 = { labbook: atN.labbook, floor: atN.floor, lazyscribe: atN.lazyscribe, mlflow: atN.mlflow };

    log(`large artifact: ${(LARGE_BYTES / 1024 ** 2).toFixed(0)} MiB saved and loaded`);
    const largeEnv = { LABBOOK_BENCH_W7_BYTES: String(LARGE_BYTES) };
    const large = alternate(
      "w7",
      [
        ["floor", "floor-w7"],
        ["labbook", "w7"],
      ],
      () => d("large"),
      1,
      largeEnv,
    );
    rmSync(d("large"), { recursive: true, force: true });
    const part = (results, key) => summarize(results.map((r) => r.parts[key]));

    const loadEnd = loadAverage();
    const report = {
      schema: 2,
      generated_at: new Date().toISOString().slice(0, 19),
      command: `pnpm bench${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`,
      mode: { quick, with_mlflow: withMlflow, runs: RUNS, lazyscribe_runs: withLazyscribe ? LAZY_RUNS : 0, append_n: APPEND_N, lazyscribe_max_n: LAZY_MAX_N },
      n: N,
      machine: machine(scratch, versions),
      load: { start: loadStart, end: loadEnd },
      workloads: Object.fromEntries(
        Object.entries(TITLES).map(([id, title]) => {
          const w = workloads[id];
          const checks = Object.fromEntries(Object.entries(w).flatMap(([side, results]) => (results?.length ? [[side, lastCheck(results)]] : [])));
          return [
            id,
            {
              title,
              labbook: seconds(w.labbook),
              floor: seconds(w.floor),
              lazyscribe: seconds(w.lazyscribe),
              mlflow: seconds(w.mlflow),
              labbook_peak_rss_mb: peak(w.labbook),
              checks,
            },
          ];
        }),
      ),
      append: append.map((a) => ({
        n: a.n,
        file_bytes: a.file_bytes,
        labbook: seconds(a.labbook),
        floor: seconds(a.floor),
        lazyscribe: seconds(a.lazyscribe),
        mlflow: seconds(a.mlflow),
        labbook_peak_rss_mb: a.labbook_peak_rss_mb,
        floor_peak_rss_mb: peak(a.floor),
        lazyscribe_peak_rss_mb: peak(a.lazyscribe),
        mlflow_peak_rss_mb: peak(a.mlflow),
      })),
      large_artifact: {
        bytes: LARGE_BYTES,
        save: part(large.labbook, "save_s"),
        save_floor: part(large.floor, "save_s"),
        load: part(large.labbook, "load_s"),
        load_floor: part(large.floor, "load_s"),
        labbook_peak_rss_mb: peak(large.labbook),
      },
      cli: { n: N, ...startupTimes },
      notes: {
        floors:
          "bench/floors.mjs says what each floor does: the same work with labbook's guarantees (atomic create-only artifact files, the index fsynced and renamed into place) and labbook's concurrency (16 in flight)",
        order:
          "per workload, floor and labbook runs alternate (floor, labbook, floor, labbook...); lazyscribe and MLflow run after them; each run is a fresh process and times only the workload (not the process start or imports)",
        w3: "workload 3 at N > --n runs on a project built (untimed) by copying the records labbook wrote at --n (bench/grow_project.py); MLflow's store is grown the same way by copying its own rows (mlflow_bench.py grow)",
        mlflow:
          "MLflow's client on sqlite: one log_batch per run plus two log_dict artifacts (its fastest honest way); the store's tables are created before the clock starts",
        cli: "wall time of spawning node with packages/labbook/dist/cli.js, including Node's own start (compare node -e 0)",
      },
      total_s: round((performance.now() - started) / 1000, 1),
    };
    // Every side computed the same answer from the same data (workload 3's checks are not comparable:
    // the floor's is the file size, the others' the count after their own appends).
    report.check_mismatches = Object.entries(report.workloads)
      .filter(([id, w]) => id !== "w3" && new Set(Object.values(w.checks).map((c) => JSON.stringify(c))).size > 1)
      .map(([id, w]) => ({ workload: id, checks: w.checks }));
    report.goals = goals(report);
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(renderTables(report));
    log(`wrote ${path.relative(process.cwd(), outFile)} (load average at the end ${JSON.stringify(loadEnd)})`);
  } finally {
    if (!process.env.LABBOOK_BENCH_DIR) rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
