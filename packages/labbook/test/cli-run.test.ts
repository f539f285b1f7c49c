/**
 * `labbook run` from the built command, as a user runs it: a TypeScript experiment module is loaded
 * through tsx without any loader flag, and what is wrong with the module is a usage error.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject } from "../src/index.js";
import { ensureBuilt, labbook, packageDir } from "./cli-helpers.js";

const example = path.resolve(packageDir, "../../apps/pipeline-example");

describe("labbook run", () => {
  let tmp: string;
  beforeAll(async () => {
    await ensureBuilt();
    tmp = mkdtempSync(path.join(tmpdir(), "labbook-cli-run-"));
  }, 600_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("runs a .ts experiment module with no loader flag and logs the run", async () => {
    const data = path.join(tmp, "data");
    const r = labbook(["run", path.join(example, "src", "experiment.ts"), "-p", path.join(example, "params", "base.json"), "--data", data]);
    expect(r.stderr).not.toMatch(/labbook: /);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^\[17\/17\] aggregate summary uncached/m);
    const project = await openProject(path.join(data, "project.json"), { mode: "r" });
    expect(project.experiments.map((e) => [e.name, e.tags, e.parameters.status])).toEqual([["toy-classifier run 1", ["pipeline-run"], "done"]]);
  });

  it("refuses a module that is not a pipeline experiment with exit 2", () => {
    const file = path.join(tmp, "not-an-experiment.mjs");
    writeFileSync(file, "export default 42;\n");
    const r = labbook(["run", file, "--data", path.join(tmp, "nothing")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not export a pipeline experiment/);
    const missing = labbook(["run", path.join(tmp, "missing.ts")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No experiment module at/);
  });
});
