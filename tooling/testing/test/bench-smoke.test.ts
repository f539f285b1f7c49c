import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { findPython, repoRoot } from "../src/index.js";

const run = promisify(execFile);

// Proves `pnpm bench` still works end to end (labbook, floors, lazyscribe, every workload) at a tiny
// N; asserts the report's shape and that every side read the same data, never any timing.
// Under CI=true a missing venv fails (findPython throws, and the test runs and says so); only a
// developer's machine without the venv leaves it out.
const ci = process.env.CI === "true";
const python = lookUpPython();

function lookUpPython(): string | Error | undefined {
  try {
    return findPython();
  } catch (error) {
    return error as Error;
  }
}

it.runIf(ci || python !== undefined)(
  "bench/run.mjs --quick writes a complete report",
  async () => {
    if (python === undefined) throw new Error("No Python venv: run bash tooling/ci/setup.sh first.");
    if (python instanceof Error) throw python;
    const dir = await mkdtemp(path.join(os.tmpdir(), "labbook-bench-smoke-"));
    try {
      const out = path.join(dir, "report.json");
      await run(process.execPath, ["bench/run.mjs", "--quick", "--n", "50", "--out", out], {
        cwd: repoRoot,
        env: { ...process.env, LABBOOK_BENCH_DIR: path.join(dir, "scratch") },
        maxBuffer: 16 * 1024 * 1024,
      });
      const report = JSON.parse(await readFile(out, "utf8"));
      expect(report.n).toBe(50);
      expect(report.mode).toMatchObject({ quick: true, runs: 2, with_mlflow: false });
      expect(Object.keys(report.machine)).toEqual(expect.arrayContaining(["cpu", "cores", "memory_gb", "os", "node", "python", "lazyscribe", "scratch"]));
      expect(report.machine.lazyscribe).toMatch(/^2\.2\./);
      expect(typeof report.machine.scratch.tmpfs).toBe("boolean");
      for (const when of ["start", "end"]) expect(Object.keys(report.load[when])).toEqual(["1m", "5m", "15m"]);
      const isStats = (s: { median: number; min: number; max: number; runs: number[] }, runs: number) =>
        s.runs.length === runs && s.min <= s.median && s.median <= s.max && s.runs.every((x) => Number.isFinite(x) && x >= 0);
      for (const w of ["w1", "w2", "w3", "w4", "w5"]) {
        const entry = report.workloads[w];
        expect(entry, w).toBeDefined();
        expect(isStats(entry.labbook, 2), `${w}.labbook`).toBe(true);
        expect(isStats(entry.lazyscribe, 1), `${w}.lazyscribe`).toBe(true);
        if (w !== "w4") expect(isStats(entry.floor, 2), `${w}.floor`).toBe(true);
        expect(entry.mlflow).toBeNull();
      }
      // Every side computed the same answer from the same data.
      expect(report.check_mismatches).toEqual([]);
      expect(report.append.map((a: { n: number }) => a.n)).toEqual([50]);
      expect(report.append[0].file_bytes).toBeGreaterThan(0);
      expect(report.append[0].labbook_peak_rss_mb).toBeGreaterThan(0);
      expect(report.large_artifact.bytes).toBe(8 * 1024 * 1024);
      expect(isStats(report.large_artifact.load_floor, 2)).toBe(true);
      for (const c of ["node", "help", "ls"]) expect(isStats(report.cli[c], 2), c).toBe(true);
      expect(report.goals.length).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  120_000,
);
