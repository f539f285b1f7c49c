import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { findPython, repoRoot } from "../src/index.js";

const run = promisify(execFile);

// Proves `pnpm bench` still works end to end (both sides, every workload) at a tiny N; asserts the
// report's shape and that labbook and lazyscribe read the same data, never any timing.
const python = findPython();

it.skipIf(python === undefined)(
  "bench/run.mjs --quick writes a complete report",
  async () => {
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
      expect(report.quick).toBe(true);
      expect(Object.keys(report.machine)).toEqual(expect.arrayContaining(["cpu", "cores", "memory_gb", "os", "node", "python", "lazyscribe"]));
      expect(report.machine.lazyscribe).toMatch(/^2\.2\./);
      const numberOrNull = (v: unknown) => v === null || (typeof v === "number" && Number.isFinite(v) && v >= 0);
      for (const w of ["w1", "w2", "w3", "w4", "w5", "w6", "w7"]) {
        const entry = report.workloads[w];
        expect(entry, w).toBeDefined();
        for (const key of ["labbook_s", "lazyscribe_s", "floor_s", "peak_rss_mb"]) {
          expect(key in entry, `${w}.${key}`).toBe(true);
          expect(numberOrNull(entry[key]), `${w}.${key} = ${entry[key]}`).toBe(true);
        }
        // Both sides computed the same answer from the same data.
        expect(entry.check_mismatch, w).toBeUndefined();
      }
      for (const w of ["w1", "w2", "w3", "w4"]) {
        expect(report.workloads[w].labbook_s, w).toBeGreaterThan(0);
        expect(report.workloads[w].lazyscribe_s, w).toBeGreaterThan(0);
      }
      expect(report.workloads.w6.floor_s).toBeGreaterThan(0);
      expect(report.workloads.w7.parts.bytes).toBe(8 * 1024 * 1024);
      expect(report.targets.w7_peak_rss_mb.value).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  120_000,
);
