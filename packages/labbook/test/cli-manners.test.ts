/**
 * The command's manners: tables fit the terminal, progress in MB, messages that point somewhere
 * real (no mode flag the command lacks, close matches for a mistyped slug, a bare metric name in
 * --sort), and bare dates for repo get --at.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import stringWidth from "string-width";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject, openRepository } from "../src/index.js";
import { cliPath, ensureBuilt, labbook } from "./cli-helpers.js";

let tmp: string;
let runs: string;
let models: string;

/** Run the command on a pseudo-terminal `columns` wide (stdout and stderr both land in stdout). */
function onTty(args: string[], columns: number) {
  const command = `stty cols ${columns} 2>/dev/null; node ${[cliPath, ...args].map((a) => JSON.stringify(a)).join(" ")}`;
  return spawnSync("script", ["-qec", command, "/dev/null"], { encoding: "utf8", env: { ...process.env, COLUMNS: String(columns), LABBOOK_REGISTRY: "" } });
}

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "labbook-cli-manners-"));
  runs = path.join(tmp, "runs");
  models = path.join(tmp, "models");
  let now = Date.UTC(2024, 4, 1, 10, 0, 0);
  const project = await openProject(runs, { mode: "w", author: "ada", clock: () => new Date(now) });
  for (const [i, name] of ["baseline", "lower learning rate"].entries()) {
    now += 1000 * (i + 1);
    await project.log(name, (exp) => {
      exp.logMetric("auc", 0.8 + i / 10);
      exp.logParameter("notes", `a long note that makes this column far wider than any terminal would like to show, run ${i}`);
      exp.logParameter("features", ["age", "income", "tenure", "region", "channel", "segment"]);
    });
  }
  await project.save();
  const repo = await openRepository(models, { mode: "w+", clock: () => new Date(Date.UTC(2024, 5, 3, 12, 0, 0)) });
  repo.logArtifact("model", { weights: [1, 2] }, { handler: "json" });
  await repo.save();
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("tables fit the terminal", () => {
  it("cuts cells with … to the terminal's width and says how to see them whole", () => {
    const r = onTty(["ls", runs], 80);
    expect(r.status).toBe(0);
    const lines = r.stdout.split(/\r?\n/).filter((l) => l.includes("│") || l.includes("─"));
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(stringWidth(line), line).toBeLessThanOrEqual(80);
    expect(r.stdout).toContain("…");
    expect(r.stdout).toMatch(/fit the terminal's 80 columns: see them whole with --json/);
  });

  it("leaves piped output whole", () => {
    const r = labbook(["ls", runs]);
    expect(r.stdout).toContain("far wider than any terminal would like to show, run 1");
    expect(r.stdout).not.toContain("…");
    expect(r.stderr).toBe("");
  });
});

describe("messages that point somewhere real", () => {
  it("a missing project names no mode flag (the command has none)", () => {
    const r = labbook(["ls", path.join(tmp, "nowhere")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`No project at ${path.join(tmp, "nowhere", "project.json")}`);
    expect(r.stderr).not.toMatch(/mode "a"|mode "w"/);
    const repo = labbook(["repo", "ls", path.join(tmp, "nowhere")]);
    expect(repo.stderr).toContain("No repository at");
    expect(repo.stderr).not.toMatch(/mode "w"/);
  });

  it("a mistyped slug gets the close matches", () => {
    const r = labbook(["show", runs, "lower-learnig-rate"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No experiment "lower-learnig-rate" .* Did you mean "lower-learning-rate"/);
    expect(labbook(["compare", runs, "baselin", "baseline"]).stderr).toMatch(/Did you mean "baseline"/);
    expect(labbook(["show", runs, "zzzzzzzzzzzz"]).stderr).toMatch(/Run labbook ls to see its experiments/);
  });

  it("--sort with a bare metric name says to write metrics.<name>, not 'Bad filter'", () => {
    const r = labbook(["ls", runs, "--sort", "auc"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sort: "auc" is not a field\. Use metrics\.auc for a metric or parameters\.auc/);
    expect(r.stderr).not.toContain("Bad filter");
    expect(labbook(["ls", runs, "--columns", "auc"]).stderr).toMatch(/--columns: "auc" is not a field/);
    expect(labbook(["ls", runs, "--sort", "-metrics.auc"]).code).toBe(0);
  });
});

describe("repo get --at", () => {
  it("takes a bare date, as the filter language does", () => {
    const r = labbook(["repo", "get", models, "model", "--at", "2024-06-04", "--asof"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ weights: [1, 2] });
    const before = labbook(["repo", "get", models, "model", "--at", "2024-06-02", "--asof"]);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/predates/);
  });
});
