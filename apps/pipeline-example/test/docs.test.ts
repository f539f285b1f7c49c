/**
 * docs/pipeline.md promises its code runs as written: its experiment module and parameter file are
 * saved in a fresh folder, each `labbook run` line of its shell blocks is run there in order, and its
 * library example is run too.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { openProject } from "labbook";
import { afterAll, describe, expect, it } from "vitest";
import { appDir, labbookRun } from "./cli.js";

const docs = readFileSync(path.resolve(appDir, "../../docs/pipeline.md"), "utf8");
const blocks = [...docs.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] as string, code: m[2] as string }));
// Inside the app, so "labbook" and "zod" resolve from its node_modules.
const dir = mkdtempSync(path.join(appDir, ".docs-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Split a shell line into words (double and single quotes), dropping a trailing # comment. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.replace(/\s+#.*$/, "").matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? "");
  return out;
}

describe("docs/pipeline.md", { timeout: 240_000 }, () => {
  const module = blocks.find((b) => b.lang === "ts" && b.code.includes("export default defineExperiment"));
  const params = blocks.find((b) => b.lang === "json");
  const library = blocks.find((b) => b.lang === "ts" && b.code.includes("runPipeline("));

  it("has the blocks this test runs", () => {
    expect(module).toBeDefined();
    expect(params).toBeDefined();
    expect(library).toBeDefined();
  });

  it("runs every labbook run line of its shell blocks, in order", async () => {
    writeFileSync(path.join(dir, "experiment.ts"), module?.code ?? "");
    writeFileSync(path.join(dir, "params.json"), params?.code ?? "");
    const lines = blocks
      .filter((b) => b.lang === "sh")
      .flatMap((b) => b.code.split("\n"))
      .filter((l) => l.startsWith("labbook run "));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      const result = labbookRun(words(line).slice(2), {}, dir);
      expect(result.stderr, line).not.toMatch(/labbook: /);
      expect(result.code, line).toBe(0);
    }
    const project = await openProject(path.join(dir, "data", "project.json"), { mode: "r" });
    expect(project.experiments.map((e) => [e.parameters.status, e.parameters.notes])).toEqual([
      ["done", null],
      ["done", null],
      ["done", "refit"],
    ]);
    expect(readdirSync(path.join(dir, "data", "runs")).some((d) => d.startsWith("powers_3_"))).toBe(true);
  });

  it("runs its library example", () => {
    const sub = mkdtempSync(path.join(dir, "lib-"));
    writeFileSync(path.join(sub, "experiment.ts"), module?.code ?? "");
    writeFileSync(path.join(sub, "run.ts"), library?.code ?? "");
    const result = spawnSync(process.execPath, ["--import", "tsx", "--conditions=@labbook/source", "run.ts"], { cwd: sub, encoding: "utf8", timeout: 120_000 });
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("done 1 { total: 285 }");
  });
});
