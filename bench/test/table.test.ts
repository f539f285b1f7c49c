import { describe, expect, it } from "vitest";
import { formatSeconds, formatStats, renderTables, speedup } from "../table.mjs";

const stats = (...runs: number[]) => {
  const sorted = [...runs].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1), runs };
};

function report(withMlflow: boolean) {
  return {
    generated_at: "2026-12-02T06:00:00",
    command: "pnpm bench",
    total_s: 250.5,
    n: 2000,
    mode: { runs: 3, lazyscribe_runs: 1, with_mlflow: withMlflow },
    machine: {
      cpu: "Test CPU",
      cores: 2,
      node: "v20.20.2",
      lazyscribe: "2.2.2",
      lazyscribe_venv: { path: ".cache/x", distributions: 7 },
      mlflow: withMlflow ? "3.17.2" : null,
      scratch: { type: "tmpfs", tmpfs: true },
    },
    load: { start: { "1m": 1.5, "5m": 1.2, "15m": 1 }, end: { "1m": 1.7, "5m": 1.3, "15m": 1.1 } },
    workloads: {
      w1: {
        title: "log 2000 and save",
        labbook: stats(1.6, 1.5, 1.7),
        floor: stats(0.2, 0.3, 0.25),
        lazyscribe: stats(14),
        mlflow: withMlflow ? stats(100) : null,
      },
      w4: { title: "100 look-ups by short slug (open not timed)", labbook: stats(0.004, 0.004, 0.004), floor: null, lazyscribe: stats(0.002), mlflow: null },
    },
    append: [
      {
        n: 50000,
        file_bytes: 147e6,
        labbook: stats(3, 3.2, 3.4),
        floor: stats(0.3, 0.3, 0.3),
        labbook_peak_rss_mb: 900,
        floor_peak_rss_mb: 250,
        lazyscribe: null,
        mlflow: withMlflow ? stats(1.1) : null,
      },
    ],
    large_artifact: { bytes: 1024 ** 3, save: stats(3, 3, 3), save_floor: stats(2, 2, 2), load: stats(1, 1, 1), load_floor: stats(0.8, 0.8, 0.8) },
    cli: { n: 2000, node: stats(0.08, 0.08, 0.09), help: stats(0.2, 0.21, 0.22), ls: stats(0.7, 0.72, 0.75) },
    goals: [{ id: "x", goal: "workload 1: labbook within 1.5× of the honest floor", value: 6, target: "<= 1.5", met: false }],
  };
}

describe("formatting", () => {
  it("writes seconds with three significant digits, milliseconds below 0.1 s", () => {
    expect(formatSeconds(1.23456)).toBe("1.23 s");
    expect(formatSeconds(0.0123456)).toBe("12.3 ms");
    expect(formatSeconds(null)).toBe("—");
  });

  it("writes a median with its range in the median's unit, a single run without one", () => {
    expect(formatStats(stats(0.09, 0.11, 0.08))).toBe("90 ms (80–110)");
    expect(formatStats(stats(14))).toBe("14 s");
    expect(formatStats(null)).toBe("—");
  });

  it("says faster or slower", () => {
    expect(speedup(14, 1.4)).toBe("10× faster");
    expect(speedup(0.002, 0.004)).toBe("2× slower");
    expect(speedup(null, 1)).toBe("—");
  });
});

describe("renderTables", () => {
  it("makes one row per workload with labbook, floor, ratios and the anchors", () => {
    const md = renderTables(report(true));
    expect(md).toContain("| workload | labbook | honest floor | labbook / floor | lazyscribe | vs lazyscribe | MLflow sqlite | vs MLflow |");
    expect(md).toContain("| 1. log 2000 and save | 1.6 s (1.5–1.7) | 0.25 s (0.2–0.3) | 6.4× | 14 s | 8.75× faster | 100 s | 63× faster |");
    expect(md).toContain("| 4. 100 look-ups by short slug (open not timed) | 4 ms (4–4) | — | — | 2 ms | 2× slower | — | — |");
  });

  it("records the load, the file system and how many runs", () => {
    const md = renderTables(report(false));
    expect(md).toContain("load average (1/5/15 min) 1.5 / 1.2 / 1 at the start, 1.7 / 1.3 / 1.1 at the end");
    expect(md).toContain("scratch on tmpfs (in memory)");
    expect(md).toContain("lazyscribe 2.2.2 (in a venv of 7 distributions)");
    expect(md).toContain("Labbook and floors: median of 3 interleaved runs (fastest–slowest in brackets); lazyscribe: 1 run.");
  });

  it("leaves the MLflow columns out when MLflow did not run", () => {
    const md = renderTables(report(false));
    expect(md).not.toContain("MLflow");
  });

  it("gives the append, large-artifact, start-up and goal tables", () => {
    const md = renderTables(report(true));
    expect(md).toContain("| 50,000 | 147 MB | 3.2 s (3–3.4) | 0.3 s (0.3–0.3) | 11× | 900 MB = 6.42× the file (250 MB) | — | 1.1 s |");
    expect(md).toContain("| load 1 GiB (stream, sha256 check) | 1 s (1–1), 1074 MB/s | 0.8 s (0.8–0.8), 1342 MB/s | 0.8 |");
    expect(md).toContain("| `labbook ls` on the 2,000-experiment project | 0.72 s (0.7–0.75) |");
    expect(md).toContain("| workload 1: labbook within 1.5× of the honest floor | 6 | <= 1.5 | no |");
  });
});
