import { describe, expect, it } from "vitest";
import { fileSystemOf, goals, interleave, loadAverage, machine, median, mountOf, ratio, summarize } from "../lib.mjs";

describe("median and summarize", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([5, 9, 1, 7, 3])).toBe(5);
  });

  it("takes the mean of the middle two of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("gives null for no values", () => {
    expect(median([])).toBeNull();
    expect(summarize([])).toBeNull();
  });

  it("keeps median, min, max and the runs in run order, ignoring missing values", () => {
    expect(summarize([0.3, 0.1, null, 0.2, Number.NaN])).toEqual({ median: 0.2, min: 0.1, max: 0.3, runs: [0.3, 0.1, 0.2] });
  });

  it("does not reorder the caller's array", () => {
    const runs = [3, 1, 2];
    median(runs);
    expect(runs).toEqual([3, 1, 2]);
  });
});

describe("ratio", () => {
  it("divides to two decimals and is null when a side is missing or zero", () => {
    expect(ratio(1, 3)).toBe(0.33);
    expect(ratio(null, 3)).toBeNull();
    expect(ratio(3, undefined)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
  });
});

describe("interleave", () => {
  it("alternates the sides, round after round", () => {
    expect(interleave(["floor", "labbook"], 3).map(({ side, run }) => `${side}${run}`)).toEqual([
      "floor0",
      "labbook0",
      "floor1",
      "labbook1",
      "floor2",
      "labbook2",
    ]);
  });
});

describe("the machine record", () => {
  it("names the 1, 5 and 15 minute load averages", () => {
    expect(loadAverage([1.234, 0.5, 2])).toEqual({ "1m": 1.23, "5m": 0.5, "15m": 2 });
    const now = loadAverage();
    expect(Object.keys(now)).toEqual(["1m", "5m", "15m"]);
    for (const v of Object.values(now)) expect(typeof v).toBe("number");
  });

  const mounts = [
    "/dev/vda / ext4 rw,relatime 0 0",
    "tmpfs /tmp tmpfs rw,nosuid 0 0",
    "tmpfs /tmpdata tmpfs rw 0 0",
    "/dev/vdb /tmp/disk\\040two xfs rw 0 0",
    "",
  ].join("\n");

  it("finds the longest mount point above a folder", () => {
    expect(mountOf("/tmp/labbook-bench-x", mounts)).toMatchObject({ mount: "/tmp", type: "tmpfs" });
    expect(mountOf("/tmp/disk two/a", mounts)).toMatchObject({ mount: "/tmp/disk two", type: "xfs" });
    expect(mountOf("/tmp", mounts)).toMatchObject({ mount: "/tmp", type: "tmpfs" });
    expect(mountOf("/home/x", mounts)).toMatchObject({ mount: "/", type: "ext4" });
  });

  it("does not take a mount point that only shares a prefix of the name", () => {
    expect(mountOf("/tmpx/y", mounts)).toMatchObject({ mount: "/", type: "ext4" });
  });

  it("records the file system of a real folder and the Node version", () => {
    const fs = fileSystemOf(process.cwd());
    expect(typeof fs.type).toBe("string");
    expect(fs.tmpfs).toBe(fs.type === "tmpfs" || fs.type === "ramfs");
    const m = machine(process.cwd(), { lazyscribe: "2.2.2" });
    expect(m.node).toBe(process.version);
    expect(m.cores).toBeGreaterThan(0);
    expect(m.lazyscribe).toBe("2.2.2");
    expect(m.scratch.dir).toBe(fs.dir);
  });
});

describe("goals", () => {
  const stats = (median: number) => ({ median, min: median, max: median, runs: [median] });

  it("computes each goal from the report and says whether it was met", () => {
    const report = {
      n: 2000,
      workloads: { w1: { labbook: stats(1), floor: stats(0.5), lazyscribe: stats(20) }, w5: { labbook: stats(0.5), lazyscribe: stats(10) } },
      append: [
        { n: 2000, file_bytes: 6e6, labbook: stats(0.1), floor: stats(0.05), labbook_peak_rss_mb: 100, mlflow: stats(1) },
        { n: 50000, file_bytes: 150 * 1024 * 1024, labbook: stats(0.3), floor: stats(0.25), labbook_peak_rss_mb: 200 },
      ],
      large_artifact: { load: stats(2), load_floor: stats(1) },
      cli: { ls: stats(0.25), help: stats(0.2) },
    };
    const byId = Object.fromEntries(goals(report).map((g) => [g.id, g]));
    expect(byId.w1_vs_lazyscribe).toMatchObject({ value: 20, met: true });
    expect(byId.w1_vs_floor).toMatchObject({ value: 2, met: false });
    expect(byId.w5_vs_lazyscribe).toMatchObject({ value: 20, met: false });
    expect(byId.append_50000_vs_floor).toMatchObject({ value: 1.2, met: true });
    expect(byId.append_50000_memory).toMatchObject({ value: 1.33, met: true });
    expect(byId.append_2000_vs_mlflow).toMatchObject({ value: 10, met: true });
    expect(byId.append_50000_vs_mlflow).toMatchObject({ value: null, met: null });
    expect(byId.large_load_vs_floor).toMatchObject({ value: 0.5, met: false });
    expect(byId.cli_ls_ms).toMatchObject({ value: 250, met: true });
    expect(byId.cli_help_ms).toMatchObject({ value: 200, met: false });
  });

  it("leaves a goal unmeasured, not met or missed, when its figures are absent", () => {
    const all = goals({ workloads: {}, append: [] });
    expect(all.length).toBeGreaterThan(0);
    for (const g of all) expect(g).toMatchObject({ value: null, met: null });
  });
});
