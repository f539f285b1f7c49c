/**
 * A local project depending on one in S3 (moto on 127.0.0.1) through a shared labbook.registry.json:
 * the umbrella's loadRegistry opens s3:// entries, credentials come from code, never the file.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dependencyGraph, loadRegistry, openProject } from "../src/index.js";

const moto = findMoto();

describe.skipIf(!moto)("registry across file systems (local -> S3)", () => {
  let server: MotoServer;
  let dir: string;
  beforeAll(async () => {
    const started = await startMoto({ buckets: ["team"] });
    if (!started) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
    server = started;
    dir = await mkdtemp(path.join(tmpdir(), "labbook-registry-s3-"));
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves a registry key to an S3 project, lazily and once", async () => {
    const s3 = { endpoint: server.endpoint, region: server.region, credentials: server.credentials };
    const features = await openProject("s3://team/features/project.json", { mode: "w", author: "ada", s3 });
    await features.log("feature build", (e) => e.logMetric("rows", 1000));
    await features.save();

    const file = path.join(dir, "labbook.registry.json");
    await writeFile(
      file,
      JSON.stringify({ projects: { features: { location: "s3://team/features", storage: { region: server.region, endpoint: server.endpoint } } } }),
    );
    const registry = await loadRegistry(file, { s3: { credentials: server.credentials } });
    const upstream = await registry.project("features");
    const runs = await openProject(path.join(dir, "runs"), { mode: "w", author: "ada", registry });
    await runs.log("train", (e) => void e.addDependency(upstream.get("feature-build")));
    await runs.log("tune", (e) => void e.addDependency(upstream.get("feature-build")));
    await runs.save();
    expect(runs.get("train").dependencies).toEqual([`features|${upstream.get("feature-build").slug}`]);

    const fresh = await loadRegistry(file, { s3: { credentials: server.credentials } });
    const reopened = await openProject(path.join(dir, "runs"), { mode: "r", registry: fresh });
    const [a, b] = await Promise.all([reopened.get("train").resolveDependencies(), reopened.get("tune").resolveDependencies()]);
    expect(a.get("feature-build")?.metrics).toEqual({ rows: 1000 });
    expect(a.get("feature-build")?.owner).toBe(b.get("feature-build")?.owner);
    expect(a.get("feature-build")?.owner?.path).toBe("s3://team/features/project.json");

    const graph = await dependencyGraph(reopened);
    expect(graph.projects).toEqual([path.join(dir, "runs/project.json"), "s3://team/features/project.json"]);
    expect(graph.edges).toHaveLength(2);
    expect(graph.missing).toEqual([]);
  });
});
