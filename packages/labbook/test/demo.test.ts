import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { findPython, repoRoot, runPython } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, packageDir } from "./cli-helpers.js";

const run = promisify(execFile);

describe("the demo (pnpm demo)", () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(path.join(tmpdir(), "labbook-demo-"));
  }, 600_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("logs, saves, reloads, prints a table and promotes into a repository that gains a version per run", async () => {
    const demo = path.join(packageDir, "dist", "demo.js");
    const first = await run(process.execPath, [demo, dir]);
    expect(first.stdout).toContain("Saved 3 experiments");
    expect(first.stdout).toMatch(/lower-learning-rate\s*\|/);
    expect(first.stdout).toContain("as version 0");
    await new Promise((r) => setTimeout(r, 1100)); // a new second: the next run's artifacts are newer
    const second = await run(process.execPath, [demo, dir]);
    expect(second.stdout).toContain("as version 1");
    const project = JSON.parse(await readFile(path.join(dir, "project.json"), "utf8")) as Array<{ short_slug: string }>;
    expect(project.map((e) => e.short_slug)).toEqual(["baseline", "deeper-trees", "lower-learning-rate"]);
    const repository = JSON.parse(await readFile(path.join(dir, "repository", "repository.json"), "utf8")) as Array<{ name: string; version: number }>;
    expect(repository.map((e) => [e.name, e.version])).toEqual([
      ["features", 0],
      ["features", 1],
    ]);
    const releases = JSON.parse(await readFile(path.join(dir, "repository", "releases.json"), "utf8")) as unknown[];
    expect(releases).toHaveLength(2);
  });

  it.runIf(findPython())("leaves a project and a repository that Python lazyscribe opens, artifacts and all", async () => {
    const out = await runPython(path.join(repoRoot, "tooling/python/open_with_lazyscribe.py"), [
      path.join(dir, "project.json"),
      path.join(dir, "repository", "repository.json"),
    ]);
    const opened = JSON.parse(out) as { experiments: Array<{ artifacts: Record<string, unknown> }>; repository: Record<string, number[]> };
    expect(opened.experiments).toHaveLength(3);
    for (const e of opened.experiments) expect(Object.keys(e.artifacts).sort()).toEqual(["features", "predictions"]);
    expect(opened.repository).toEqual({ features: [0, 1] });
  });
});
