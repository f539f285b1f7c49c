// The pure parts of the bench: statistics over runs, the interleaved run order, the machine record
// (load average, CPU, the temp dir's file system) and the goals. bench/run.mjs drives them;
// bench/test/lib.test.ts tests them.
import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** `x` to `digits` decimals; null and undefined stay null. */
export function round(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return null;
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

/** a / b to two decimals, or null when either side is missing or b is 0. */
export function ratio(a, b) {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return round(a / b, 2);
}

/** The median of a list of numbers (the mean of the middle two for an even count); null when empty. */
export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median, min, max and every run (in run order) of a list of seconds; null when there are none. */
export function summarize(values, digits = 6) {
  const xs = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (xs.length === 0) return null;
  return {
    median: round(median(xs), digits),
    min: round(Math.min(...xs), digits),
    max: round(Math.max(...xs), digits),
    runs: xs.map((v) => round(v, digits)),
  };
}

/**
 * The order in which the sides of one workload run: `runs` rounds, each round every side once in
 * the given order (floor, labbook, floor, labbook...), so a change in the machine's load touches both.
 */
export function interleave(sides, runs) {
  const order = [];
  for (let run = 0; run < runs; run++) for (const side of sides) order.push({ side, run });
  return order;
}

/** os.loadavg() rounded: the 1-, 5- and 15-minute load averages. */
export function loadAverage(values = os.loadavg()) {
  const [one, five, fifteen] = values.map((x) => round(x, 2));
  return { "1m": one, "5m": five, "15m": fifteen };
}

/**
 * The mount that holds `dir`, from the text of /proc/mounts: the longest mount point that is `dir`
 * or a folder above it. Mount points with spaces are written \040 in that file.
 */
export function mountOf(dir, mountsText) {
  let best = null;
  for (const line of mountsText.split("\n")) {
    const [device, rawPoint, type] = line.split(" ");
    if (!rawPoint || !type) continue;
    const point = rawPoint.replace(/\\040/g, " ");
    const inside = dir === point || point === "/" || dir.startsWith(`${point}/`);
    if (inside && (best === null || point.length >= best.mount.length)) best = { mount: point, type, device };
  }
  return best;
}

/** The file system of `dir`: its mount point, type (ext4, tmpfs...) and whether it lives in memory. */
export function fileSystemOf(dir) {
  const real = realpathSync(dir);
  let mount = null;
  try {
    mount = mountOf(real, readFileSync("/proc/mounts", "utf8"));
  } catch {
    // not Linux: ask stat(1) for the type only
  }
  let type = mount?.type ?? null;
  if (type === null) {
    try {
      type = execFileSync("stat", ["-f", "-c", "%T", real], { encoding: "utf8" }).trim();
    } catch {
      type = "unknown";
    }
  }
  return { dir: real, mount: mount?.mount ?? null, type, tmpfs: type === "tmpfs" || type === "ramfs" };
}

/** The machine a run happened on: CPU, cores, memory, OS, Node and the scratch folder's file system. */
export function machine(scratch, extra = {}) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: os.availableParallelism?.() ?? cpus.length,
    memory_gb: round(os.totalmem() / 1024 ** 3, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    scratch: fileSystemOf(scratch),
    ...extra,
  };
}

/**
 * The issue-20 goals, each with its value from the report, the target and whether it was met
 * (null when the value was not measured in this run, e.g. MLflow without --with-mlflow).
 */
export function goals(report) {
  const w = report.workloads ?? {};
  const med = (entry, side) => entry?.[side]?.median ?? null;
  const out = [];
  const add = (id, text, value, ok, target) => out.push({ id, goal: text, value, target, met: value === null ? null : ok(value) });
  add(
    "w1_vs_lazyscribe",
    "workload 1: labbook at least 15× faster than lazyscribe",
    ratio(med(w.w1, "lazyscribe"), med(w.w1, "labbook")),
    (v) => v >= 15,
    ">= 15",
  );
  add("w1_vs_floor", "workload 1: labbook within 1.5× of the honest floor", ratio(med(w.w1, "labbook"), med(w.w1, "floor")), (v) => v <= 1.5, "<= 1.5");
  add(
    "w5_vs_lazyscribe",
    "workload 5: labbook at least 25× faster than lazyscribe",
    ratio(med(w.w5, "lazyscribe"), med(w.w5, "labbook")),
    (v) => v >= 25,
    ">= 25",
  );
  const appends = report.append ?? [];
  const largest = appends.reduce((a, b) => (a === null || b.n > a.n ? b : a), null);
  if (largest) {
    add(
      `append_${largest.n}_vs_floor`,
      `append one at N = ${largest.n}: within 1.5× of reading + writing the file's bytes`,
      ratio(largest.labbook?.median, largest.floor?.median),
      (v) => v <= 1.5,
      "<= 1.5",
    );
    add(
      `append_${largest.n}_memory`,
      `append one at N = ${largest.n}: peak memory under 2× the file's size`,
      largest.labbook_peak_rss_mb === null || largest.labbook_peak_rss_mb === undefined
        ? null
        : ratio(largest.labbook_peak_rss_mb * 1024 * 1024, largest.file_bytes),
      (v) => v < 2,
      "< 2",
    );
  }
  for (const a of appends) {
    add(
      `append_${a.n}_vs_mlflow`,
      `append one at N = ${a.n}: faster than MLflow's sqlite store`,
      ratio(a.mlflow?.median, a.labbook?.median),
      (v) => v > 1,
      "> 1",
    );
  }
  const big = report.large_artifact;
  add(
    "large_load_vs_floor",
    "large artifact load: at least 0.8 of the floor's speed (read + sha256)",
    ratio(big?.load_floor?.median, big?.load?.median),
    (v) => v >= 0.8,
    ">= 0.8",
  );
  const cli = report.cli ?? {};
  const ms = (seconds) => (seconds === null || seconds === undefined ? null : round(seconds * 1000, 0));
  add("cli_ls_ms", `\`labbook ls\` on the ${report.n ?? 2000}-experiment project under 300 ms`, ms(cli.ls?.median), (v) => v < 300, "< 300 ms");
  add("cli_help_ms", "`labbook --help` under 150 ms", ms(cli.help?.median), (v) => v < 150, "< 150 ms");
  return out;
}

/** `dir` relative to `from` when inside it, for messages. */
export function shortPath(dir, from = process.cwd()) {
  const rel = path.relative(from, dir);
  return rel.startsWith("..") ? dir : rel;
}
