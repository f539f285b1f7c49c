import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { findPython, repoRoot, runPython } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, packageDir } from "./cli-helpers.js";

const run = promisify(execFile);

// The README promises its example runs as written: take the first ```ts block, run it with Node
// against the built package in an empty folder, and look at what it left on disk.
describe("README example", () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(path.join(tmpdir(), "labbook-readme-"));
    await mkdir(path.join(dir, "node_modules"));
    await symlink(packageDir, path.join(dir, "node_modules", "labbook"), "dir");
  }, 600_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs as written and leaves a lazyscribe project behind", async () => {
    const readme = await readFile(path.resolve(packageDir, "../../README.md"), "utf8");
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code, "README has a ```ts example").toBeTruthy();
    expect((code ?? "").split("\n").length).toBeLessThanOrEqual(26);
    await writeFile(path.join(dir, "example.mjs"), code ?? "");
    const { stdout } = await run(process.execPath, ["example.mjs"], { cwd: dir });
    expect(stdout).toContain("0.91");
    expect(stdout).toContain("age");
    const project = JSON.parse(await readFile(path.join(dir, "runs", "project.json"), "utf8")) as Array<{ short_slug: string; tests: unknown[] }>;
    expect(project.map((e) => e.short_slug)).toEqual(["gradient-boosting"]);
    expect(project[0]?.tests).toHaveLength(1);
  });

  it.runIf(findPython())("leaves files Python lazyscribe opens, artifacts and all", async () => {
    const out = await runPython(path.join(repoRoot, "tooling/python/open_with_lazyscribe.py"), [path.join(dir, "runs", "project.json")]);
    const opened = JSON.parse(out) as { experiments: Array<{ slug: string; artifacts: Record<string, unknown> }> };
    expect(opened.experiments.map((e) => e.artifacts)).toEqual([{ features: ["age", "income"] }]);
  });
});
