import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Project } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { findPython, repoRoot, runPython } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../src/index.js";
import { localOpener, steppingClock } from "./helpers.js";

const script = path.join(repoRoot, "tooling/python/make_dependency_fixture.py");
const python = findPython();

type Resolved = Record<string, Record<string, string>>;

async function labbookResolves(project: Project): Promise<Resolved> {
  const out: Resolved = {};
  for (const e of project) {
    const deps = await e.resolveDependencies();
    out[e.slug] = Object.fromEntries([...deps].map(([short, up]) => [short, up.slug]));
  }
  return out;
}

describe.skipIf(!python)("dependencies written by Python lazyscribe 2.2", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "labbook-deps-py-"));
    await runPython(script, ["write", dir]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("resolve in labbook exactly as in lazyscribe: cwd-relative paths, absolute paths and registry keys", async () => {
    const stored = JSON.parse(await readFile(path.join(dir, "runs/project.json"), "utf8")) as Array<{ dependencies: string[] }>;
    // What lazyscribe really writes: the upstream path as it was opened (relative to its cwd), or the registry key.
    expect(stored.map((e) => e.dependencies)).toEqual([
      ["features/project.json|feature-build-20240101000000"],
      [`${path.join(await realDir(dir), "features/project.json")}|feature-build-v2-20240105000000`],
      ["eval|holdout-eval-20240103000000", "features/project.json|feature-build-20240101000000"],
    ]);
    const python = JSON.parse(await runPython(script, ["resolve", dir, "runs/project.json"])) as Resolved;

    const registry = new Registry({ openProject: localOpener(), baseDir: dir, cwd: dir }).addProject("eval", "eval");
    const runs = await Project.open("project.json", { storage: new LocalStorage(path.join(dir, "runs")), mode: "r", registry });
    expect(await labbookResolves(runs)).toEqual(python);
    expect(Object.keys(python)).toHaveLength(3);
  });

  it("without the cwd fallback a Python cwd-relative path is MISSING_DEPENDENCY naming key, slug and experiment", async () => {
    const registry = new Registry({ openProject: localOpener(), baseDir: dir, cwd: false }).addProject("eval", "eval");
    const runs = await Project.open("project.json", { storage: new LocalStorage(path.join(dir, "runs")), mode: "r", registry });
    const error = await runs
      .get("train-by-path")
      .resolveDependencies()
      .catch((e: Error) => e);
    expect(error).toMatchObject({ code: "MISSING_DEPENDENCY" });
    expect((error as Error).message).toContain('"features/project.json"');
    expect((error as Error).message).toContain("feature-build-20240101000000");
    expect((error as Error).message).toContain("train-by-path-20240201000000");
  });

  it("dependencies written by labbook resolve in lazyscribe the same way", async () => {
    const registry = new Registry({ openProject: localOpener(), baseDir: dir, cwd: dir }).addProject("eval", "eval");
    const evaluation = await registry.project("eval");
    const upstream = await Project.open("project.json", { storage: new LocalStorage(path.join(dir, "features")), mode: "r" });
    const labbook = await Project.open("project.json", {
      storage: new LocalStorage(path.join(dir, "labbook")),
      mode: "w",
      author: "ada",
      registry,
      clock: steppingClock("2024-04-01T00:00:00Z"),
    });
    await labbook.log("labbook train", (e) => {
      e.addDependency(upstream.get("feature-build-v2"));
      e.addDependency(evaluation.get("holdout-eval"));
    });
    await labbook.save();
    expect(labbook.get("labbook-train").dependencies).toEqual([
      `${path.join(dir, "features/project.json")}|feature-build-v2-20240105000000`,
      "eval|holdout-eval-20240103000000",
    ]);
    const python = JSON.parse(await runPython(script, ["resolve", dir, "labbook/project.json"])) as Resolved;
    expect(python).toEqual({
      "labbook-train-20240401000000": { "feature-build-v2": "feature-build-v2-20240105000000", "holdout-eval": "holdout-eval-20240103000000" },
    });
    const reopened = await Project.open("project.json", {
      storage: new LocalStorage(path.join(dir, "labbook")),
      mode: "r",
      registry: new Registry({ openProject: localOpener(), baseDir: dir }).addProject("eval", "eval"),
    });
    expect(await labbookResolves(reopened)).toEqual(python);
  });
});

async function realDir(dir: string): Promise<string> {
  const { realpath } = await import("node:fs/promises");
  return realpath(dir);
}
