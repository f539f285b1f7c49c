/**
 * In a clone, the docs say `pnpm labbook …` from the repository root (tooling/run-labbook.mjs): it
 * builds the command when needed and runs it in the folder pnpm was started from.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { repoRoot } from "@labbook-internal/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./cli-helpers.js";

const fixture = "packages/labbook/test/fixtures/lazyscribe-2.2.1-tests/data/project.json";

function pnpm(args: string[], cwd: string) {
  return spawnSync("pnpm", args, { cwd, encoding: "utf8", env: { ...process.env, LABBOOK_REGISTRY: "" } });
}

describe("pnpm labbook from the repository root", () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 600_000);

  it("runs the command with its arguments, and its --json output alone with pnpm -s", () => {
    const r = pnpm(["-s", "labbook", "ls", fixture, "--json"], repoRoot);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ slug: string }>).map((e) => e.slug)).toEqual(["my-experiment-20220101093000"]);
  }, 600_000); // the first run may build the packages

  it("resolves relative locations against the folder pnpm was started in", () => {
    // docs/ has no package.json of its own, so pnpm runs the root's script (in a package folder: pnpm -w labbook).
    const r = pnpm(["labbook", "ls", path.relative("docs", fixture)], path.join(repoRoot, "docs"));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^my-experiment\s+2022-01-01T09:30:00/m);
  });

  it("passes the command's exit code on", () => {
    const r = pnpm(["-s", "labbook", "ls", "no/such/project.json"], repoRoot);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no\/such\/project\.json/);
  });
});
