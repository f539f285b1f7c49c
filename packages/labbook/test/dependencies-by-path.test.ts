/**
 * A dependency labbook records by absolute path (the upstream project lives elsewhere on disk)
 * resolves without any registry, in the library, in `labbook deps`, and in Python lazyscribe, which
 * opens such a path itself.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { findPython, runPython } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject } from "../src/index.js";
import { ensureBuilt, labbook } from "./cli-helpers.js";

const python = findPython();
let dir: string;
let upstreamFile: string;
let downstreamDir: string;
let slug: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(path.join(tmpdir(), "labbook-deps-by-path-"));
  upstreamFile = path.join(dir, "features", "project.json");
  downstreamDir = path.join(dir, "elsewhere", "runs");
  const features = await openProject(upstreamFile, { mode: "w", author: "ada" });
  await features.log("feature build", (e) => e.logMetric("rows", 1000));
  await features.save();
  slug = features.get("feature-build").slug;
  const runs = await openProject(downstreamDir, { mode: "w", author: "ada" });
  await runs.log("train", (e) => void e.addDependency(features.get("feature-build")));
  await runs.save();
}, 600_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a dependency on a project by absolute path", () => {
  it("is recorded as the upstream project's path", async () => {
    const runs = await openProject(downstreamDir, { mode: "r" });
    expect(runs.get("train").dependencies).toEqual([`${upstreamFile}|${slug}`]);
  });

  it("resolves in the library without a registry", async () => {
    const runs = await openProject(downstreamDir, { mode: "r" });
    const upstream = await runs.get("train").resolveDependencies();
    expect(upstream.get("feature-build")?.metrics).toEqual({ rows: 1000 });
    expect(upstream.get("feature-build")?.owner?.path).toBe(upstreamFile);
  });

  it("resolves in `labbook deps` without --registry", () => {
    const r = labbook(["deps", downstreamDir, "--json"], { env: { LABBOOK_REGISTRY: "" } });
    expect(r.code).toBe(0);
    const graph = JSON.parse(r.stdout) as { missing: unknown[]; edges: unknown[] };
    expect(graph.missing).toEqual([]);
    expect(graph.edges).toHaveLength(1);
  });

  it.runIf(python)("resolves in Python lazyscribe too", async () => {
    const script = path.join(dir, "resolve.py");
    await writeFile(
      script,
      [
        "import sys",
        "from lazyscribe import Project",
        "exp = Project(sys.argv[1], mode='r')['train']",
        "print(exp.dependencies['feature-build'].metrics['rows'])",
      ].join("\n"),
    );
    expect((await runPython(script, [path.join(downstreamDir, "project.json")])).trim()).toBe("1000");
  });
});
