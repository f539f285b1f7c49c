/**
 * A local project depending on one in S3 (moto on 127.0.0.1) through a shared labbook.registry.json:
 * the umbrella's loadRegistry opens s3:// entries, credentials come from code, never the file.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dependencyGraph, loadRegistry, openProject, openRepository } from "../src/index.js";
import { ensureBuilt, labbook } from "./cli-helpers.js";

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

/** Methods moto recorded since `from` (a line count), from its request recording (MOTO_ENABLE_RECORDING). */
async function recorded(file: string, from = 0): Promise<Array<{ method: string; url: string }>> {
  const lines = (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
  return lines.slice(from).map((l) => JSON.parse(l) as { method: string; url: string });
}

describe.skipIf(!moto)("registered S3 repositories keep their settings and open read-only where asked", () => {
  let server: MotoServer;
  let dir: string;
  let recording: string;
  let registryFile: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(path.join(tmpdir(), "labbook-registry-s3-repo-"));
    recording = path.join(dir, "moto-requests.jsonl");
    // moto writes every request it serves to this file, so the test sees whether anything was written.
    const started = await startMoto({ buckets: ["team"], env: { MOTO_ENABLE_RECORDING: "true", MOTO_RECORDER_FILEPATH: recording } });
    if (!started) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
    server = started;
    const models = await openRepository("s3://team/models", {
      mode: "w+",
      s3: { endpoint: server.endpoint, region: server.region, credentials: server.credentials },
    });
    models.logArtifact("weights", { layers: 3 }, { handler: "json" });
    await models.save();
    registryFile = path.join(dir, "labbook.registry.json");
    // The file names the endpoint and region; the credentials come from code or the environment.
    await writeFile(
      registryFile,
      JSON.stringify({ repositories: { models: { location: "s3://team/models", storage: { region: server.region, endpoint: server.endpoint } } } }),
    );
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("the library: the entry's endpoint and the registry's credentials are used; mode r sends no write", async () => {
    const registry = await loadRegistry(registryFile, { s3: { credentials: server.credentials } });
    const before = (await recorded(recording)).length;
    const repo = await registry.repository("models", { mode: "r" });
    expect(repo.mode).toBe("r");
    expect(repo.names()).toEqual(["weights"]);
    expect(await repo.loadArtifact("weights")).toEqual({ layers: 3 });
    const methods = (await recorded(recording, before)).map((r) => r.method);
    expect(methods.length).toBeGreaterThan(0);
    expect(methods.filter((m) => m !== "GET" && m !== "HEAD")).toEqual([]);
    // A writable open is a separate one, and it can log.
    const writable = await registry.repository("models");
    expect(writable.mode).toBe("w+");
    expect(writable).not.toBe(repo);
  });

  it("the command: repo ls on a registered S3 repository reads with the environment's credentials and writes nothing", () => {
    const env = {
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_CONFIG_FILE: path.join(dir, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "no-credentials"),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
    return (async () => {
      const before = (await recorded(recording)).length;
      const r = labbook(["repo", "ls", "models", "--registry", registryFile], { env });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^weights\s+0\s.*\sjson\s.*\s1$/m);
      const methods = (await recorded(recording, before)).map((x) => x.method);
      expect(methods.length).toBeGreaterThan(0);
      expect(methods.filter((m) => m !== "GET" && m !== "HEAD")).toEqual([]);
    })();
  });
});
