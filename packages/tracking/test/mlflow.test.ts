/**
 * Export to a real MLflow 3.17 tracking server (from the venv, started once for this file on
 * 127.0.0.1), read back through MLflow's own Python client (MlflowClient), not only through labbook.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type Experiment, isLabbookError, MemoryStorage, Project } from "@labbook/core";
import { findMlflow, freePort, type MlflowServer, startMlflow } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportExperiment, exportProject, logRevision, materialize, type RemoteError } from "../src/index.js";
import { sampleRepository } from "./helpers.js";

let mlflow: MlflowServer | undefined;
beforeAll(async () => {
  if (findMlflow() !== undefined) mlflow = await startMlflow();
}, 180_000);
afterAll(() => mlflow?.stop());

const BIG = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);

interface ReadBack {
  run_id: string;
  name: string;
  status: string;
  start_time: number;
  end_time: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, Array<[number, number, number]>>;
  artifacts: Record<string, string>;
  children: Array<{
    name: string;
    params: Record<string, string>;
    tags: Record<string, string>;
    metrics: Record<string, Array<[number, number, number]>>;
    artifacts: Record<string, string>;
  }>;
}

/** Everything MLflow's Python client sees of the active runs tagged with `slug`, artifacts as sha256. */
async function readBack(experimentName: string, slug: string): Promise<ReadBack[]> {
  return (mlflow as MlflowServer).python<ReadBack[]>(`
import hashlib, os, tempfile
exp = client.get_experiment_by_name(${JSON.stringify(experimentName)})
def files(run_id):
    out = {}
    d = client.download_artifacts(run_id, "", tempfile.mkdtemp())
    for root, _, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            out[os.path.relpath(p, d)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out
def describe(run):
    metrics = {k: [[m.step, m.timestamp, m.value] for m in sorted(client.get_metric_history(run.info.run_id, k), key=lambda m: (m.step, m.timestamp))] for k in run.data.metrics}
    return {"run_id": run.info.run_id, "name": run.info.run_name, "status": run.info.status, "start_time": run.info.start_time, "end_time": run.info.end_time,
            "params": run.data.params, "tags": {k: v for k, v in run.data.tags.items()}, "metrics": metrics, "artifacts": files(run.info.run_id)}
runs = client.search_runs([exp.experiment_id], filter_string="tags.\`labbook.slug\` = '${slug}'")
result = []
for run in runs:
    d = describe(run)
    kids = client.search_runs([exp.experiment_id], filter_string="tags.\`mlflow.parentRunId\` = '" + run.info.run_id + "'")
    d["children"] = [describe(k) for k in kids]
    result.append(d)
`);
}

function sha(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function sampleProject(): Promise<{ project: Project; exp: Experiment }> {
  const project = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w", author: "ada", clock: () => new Date("2024-03-04T05:06:07Z") });
  const exp = await project.log("train model", async (e) => {
    e.logParameter("lr", 0.01);
    e.logParameter("optimizer", { name: "adam", betas: [0.9, 0.999], schedule: { warmup: 5 } });
    e.logParameter("long", "x".repeat(7000));
    for (let step = 0; step < 5; step++) e.logMetric("loss", 1 / (step + 1), { step, time: 1_700_000_000_000 + step * 1000 });
    e.logMetric("auc", 0.91);
    e.tag("baseline", "gpu");
    e.logArtifact("config", { layers: 3 }, { handler: "json" });
    e.logArtifact("weights", BIG, { handler: "bytes", fname: "model/weights.bin" });
    await e.logTest("holdout", { description: "the 2023 holdout" }, (t) => {
      t.logMetric("auc", 0.8);
      t.logParameter("rows", 1200);
      t.logArtifact("notes", "fine", { handler: "text" });
    });
  });
  await project.save();
  return { project, exp };
}

// Outside CI a checkout without the venv skips these; under CI=true findMlflow throws instead.
describe.skipIf(findMlflow() === undefined)("export to MLflow", () => {
  it("logs params, metric histories, tags, times, nested tests and artifacts, as MLflow's Python client reads them", async () => {
    if (!mlflow) return expect.fail("no MLflow server: run bash tooling/ci/setup-tracking.sh");
    const { project, exp } = await sampleProject();
    const summary = await exportProject(project, { backend: "mlflow", trackingUri: mlflow.url, experimentName: "readback" });
    expect(summary).toMatchObject({ created: 1, updated: 0, unchanged: 0 });
    expect(summary.runs[0]?.notes.join("\n")).toContain('parameter "long" (7000 characters) is over MLflow\'s 6000: sent as artifact labbook/params/long.txt');

    const [run, ...others] = await readBack("readback", exp.slug);
    expect(others).toEqual([]);
    if (!run) return expect.fail("no run");
    expect(run.name).toBe("train model");
    expect(run.status).toBe("FINISHED");
    expect(run.start_time).toBe(Date.parse("2024-03-04T05:06:07Z"));
    expect(run.end_time).toBe(exp.lastUpdated.getTime());
    expect(run.params).toEqual({ lr: "0.01", "optimizer.name": "adam", "optimizer.betas": "[0.9, 0.999]", "optimizer.schedule.warmup": "5" });
    expect(run.tags).toMatchObject({ "labbook.slug": exp.slug, "labbook.author": "ada", "labbook.tags": "baseline, gpu", "mlflow.user": "ada" });
    expect(run.metrics.loss).toEqual([0, 1, 2, 3, 4].map((s) => [s, 1_700_000_000_000 + s * 1000, 1 / (s + 1)]));
    expect(run.metrics.auc).toEqual([[0, exp.lastUpdated.getTime(), 0.91]]);
    expect(run.artifacts["model/weights.bin"]).toBe(sha(BIG));
    expect(run.artifacts["labbook/params/long.txt"]).toBe(sha("x".repeat(7000)));
    const config = exp.artifacts.find((a) => a.name === "config");
    expect(run.artifacts[config?.fname ?? "?"]).toBe(config?.sha256);
    // The history is in the metrics; its labbook file is not sent again as an artifact.
    expect(run.artifacts["metric-history.json"]).toBeUndefined();

    expect(run.children).toHaveLength(1);
    const child = run.children[0];
    expect(child?.name).toBe("holdout");
    expect(child?.params).toEqual({ rows: "1200" });
    expect(child?.tags).toMatchObject({ "mlflow.parentRunId": run.run_id, "labbook.test": "holdout", "mlflow.note.content": "the 2023 holdout" });
    expect(child?.metrics.auc).toEqual([[0, exp.lastUpdated.getTime(), 0.8]]);
    expect(Object.values(child?.artifacts ?? {})).toEqual([sha("fine")]);
  });

  it("updates the same run on a second export and sends no metric twice", async () => {
    if (!mlflow) return expect.fail("no MLflow server");
    const { project, exp } = await sampleProject();
    const options = { backend: "mlflow", trackingUri: mlflow.url, experimentName: "idempotent" } as const;
    await exportProject(project, options);
    const again = await exportProject(project, options);
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    expect(again.runs[0]).toMatchObject({ metricsSent: 0, paramsSent: 0, artifactsSent: 0 });

    // Two more points of loss and a new parameter: the same run gets only those.
    const reopened = await Project.open("project.json", { storage: project.storage, mode: "w+", author: "bob" });
    const loaded = reopened.get(exp.slug);
    loaded.logMetric("loss", 0.1, { step: 5, time: 1_700_000_005_000 });
    loaded.logMetric("loss", 0.05, { step: 6, time: 1_700_000_006_000 });
    loaded.logParameter("epochs", 7);
    loaded.logParameter("lr", 0.02);
    await reopened.save();
    const third = await exportProject(reopened, options);
    expect(third).toMatchObject({ created: 0, updated: 1, unchanged: 0 });
    // loss: 2 new points; auc: its one point now carries the new last_updated as timestamp.
    expect(third.runs[0]?.metricsSent).toBe(3);
    expect(third.runs[0]?.paramsSent).toBe(1);
    expect(third.runs[0]?.notes.join("\n")).toContain('parameter "lr" changed in labbook ("0.01" → "0.02") but MLflow cannot change a logged parameter');
    const runs = await readBack("idempotent", exp.slug);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.metrics.loss?.map((p) => p[0])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(runs[0]?.params.epochs).toBe("7");
    expect(runs[0]?.children).toHaveLength(1);
  });

  it("splits a run over log-batch calls within MLflow's limits", async () => {
    if (!mlflow) return expect.fail("no MLflow server");
    const project = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w", author: "ada" });
    const exp = await project.log("wide", async (e) => {
      for (let i = 0; i < 250; i++) e.logParameter(`p${i}`, i);
      for (let i = 0; i < 120; i++) e.tag(`t${i}`);
      for (let step = 0; step < 2500; step++) e.logMetric("m", step, { step, time: 1_000 + step });
    });
    await project.save();
    const summary = await exportExperiment(exp, { backend: "mlflow", trackingUri: mlflow.url, experimentName: "wide" });
    expect(summary.runs[0]).toMatchObject({ paramsSent: 250, metricsSent: 2500 });
    const [run] = await readBack("wide", exp.slug);
    expect(Object.keys(run?.params ?? {})).toHaveLength(250);
    expect(run?.metrics.m).toHaveLength(2500);
    expect(run?.metrics.m?.at(-1)).toEqual([2499, 3499, 2499]);
  });

  it("refuses a key over 250 characters before sending anything", async () => {
    if (!mlflow) return expect.fail("no MLflow server");
    const project = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w", author: "ada" });
    await project.log("long key", async (e) => e.logParameter("k".repeat(251), 1));
    const error = await exportProject(project, { backend: "mlflow", trackingUri: mlflow.url, experimentName: "never-made" }).catch((e: unknown) => e);
    expect(isLabbookError(error, "INVALID_ARGUMENT")).toBe(true);
    expect(await mlflow.python(`result = client.get_experiment_by_name("never-made")`)).toBeNull();
  });

  it("stops with CONFLICT on a run deleted since the last export, and recreates it when asked", async () => {
    if (!mlflow) return expect.fail("no MLflow server");
    const { project, exp } = await sampleProject();
    const options = { backend: "mlflow", trackingUri: mlflow.url, experimentName: "deleted" } as const;
    const first = await exportProject(project, options);
    const runId = first.runs[0]?.runId as string;
    await mlflow.python(`client.delete_run(${JSON.stringify(runId)})`);
    const before = project.serialize();
    const error = await exportProject(project, options).catch((e: unknown) => e);
    expect(isLabbookError(error, "CONFLICT")).toBe(true);
    expect((error as Error).message).toContain(`mlflow runs restore --run-id ${runId}`);
    expect(project.serialize()).toBe(before);
    const again = await exportProject(project, { ...options, onDeletedRun: "recreate" });
    expect(again.created).toBe(1);
    expect(again.runs[0]?.runId).not.toBe(runId);
    expect(await readBack("deleted", exp.slug)).toHaveLength(1);
  });
});

describe.skipIf(findMlflow() === undefined)("logRevision to MLflow", () => {
  it("logs the bundle as params, the revision as a tag, the manifest as an artifact and the files as a dataset input", async () => {
    if (!mlflow) return expect.fail("no MLflow server");
    const repo = await sampleRepository();
    const logged = await logRevision(repo, "v1.0.0", { backend: "mlflow", trackingUri: mlflow.url });
    expect(logged).toMatchObject({ id: "labbook-revision:v1.0.0", created: true });
    const bundle = logged.bundle;
    const seen = await mlflow.python<{
      name: string;
      params: Record<string, string>;
      tags: Record<string, string>;
      manifest: { manifestHash: string; resolved: Record<string, number> };
      inputs: Array<{ name: string; digest: string; source_type: string; source: string; context: string }>;
    }>(`
import tempfile
run = client.get_run(${JSON.stringify(logged.runId)})
path = client.download_artifacts(run.info.run_id, "labbook-manifest.json", tempfile.mkdtemp())
result = {"name": run.info.run_name, "params": run.data.params, "tags": run.data.tags, "manifest": json.load(open(path)),
          "inputs": [{"name": d.dataset.name, "digest": d.dataset.digest, "source_type": d.dataset.source_type, "source": d.dataset.source,
                      "context": {t.key: t.value for t in d.tags}.get("mlflow.data.context")} for d in run.inputs.dataset_inputs]}
`);
    expect(seen.name).toBe("labbook-revision:v1.0.0");
    expect(seen.params).toMatchObject({
      "labbook.revision": "v1.0.0",
      "labbook.revision_kind": "release",
      "labbook.manifest_hash": bundle.manifestHash,
      "labbook.format_version": "lazyscribe-2",
      "resolved.model": "0",
      "resolved.data": "0",
    });
    expect(seen.params["labbook.repository"]).toContain("repo/repository.json");
    expect(seen.tags).toMatchObject({ "labbook.revision": "v1.0.0", "labbook.manifest_hash": bundle.manifestHash });
    expect(seen.manifest).toMatchObject({ manifestHash: bundle.manifestHash, resolved: { data: 0, model: 0 } });
    expect(seen.inputs).toHaveLength(1);
    expect(seen.inputs[0]).toMatchObject({
      name: "labbook-revision:v1.0.0",
      digest: bundle.manifestHash.slice(0, 36),
      source_type: "labbook",
      context: "revision",
    });
    expect(JSON.parse(seen.inputs[0]?.source ?? "{}")).toMatchObject({ manifest_hash: bundle.manifestHash, revision: "v1.0.0" });

    // Logged again with the same files: the same run, nothing sent; and the files rebuild to the logged hash.
    const again = await logRevision(repo, "v1.0.0", { backend: "mlflow", trackingUri: mlflow.url });
    expect(again).toMatchObject({ created: false, runId: logged.runId });
    const rebuilt = await materialize(repo, "v1.0.0", "rebuilt", { expectedHash: seen.params["labbook.manifest_hash"] });
    expect(rebuilt.manifestHash).toBe(bundle.manifestHash);
  });
});

describe("MLflow server errors become typed errors and leave the project untouched", () => {
  let stub: Server;
  let url = "";
  let mode: "500" | "403" | "hang" = "500";
  beforeAll(async () => {
    stub = createServer((_req, res) => {
      if (mode === "hang") return; // never answers
      res.writeHead(Number(mode), { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error_code: mode === "403" ? "PERMISSION_DENIED" : "INTERNAL_ERROR",
          message: mode === "403" ? "Invalid Host header" : "database is locked",
        }),
      );
    });
    const port = await freePort();
    await new Promise<void>((r) => stub.listen(port, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    stub.closeAllConnections();
    return new Promise<void>((r) => stub.close(() => r()));
  });

  async function attempt(trackingUri: string, timeoutMs = 5000) {
    const { project } = await sampleProject();
    const before = project.serialize();
    const error = await exportProject(project, { backend: "mlflow", trackingUri, timeoutMs }).catch((e: unknown) => e);
    expect(project.serialize()).toBe(before);
    return error as Error;
  }

  it("a server that is down is UNREACHABLE", async () => {
    const error = await attempt(`http://127.0.0.1:${await freePort()}`);
    expect(isLabbookError(error, "UNREACHABLE")).toBe(true);
    expect(error.message).toContain("Is the server running");
  });

  it("a 500 is REMOTE with the status and the server's message", async () => {
    mode = "500";
    const error = await attempt(url);
    expect(isLabbookError(error, "REMOTE")).toBe(true);
    expect((error as RemoteError).status).toBe(500);
    expect(error.message).toContain("database is locked");
  });

  it("a 403 is REMOTE and says to check credentials and the URL", async () => {
    mode = "403";
    const error = await attempt(url);
    expect((error as RemoteError).status).toBe(403);
    expect(error.message).toContain("Invalid Host header");
    expect(error.message).toContain("Check the credentials");
  });

  it("a server that stops answering hits the timeout instead of hanging", async () => {
    mode = "hang";
    const started = Date.now();
    const error = await attempt(url, 300);
    expect(isLabbookError(error, "TIMEOUT")).toBe(true);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("an unknown backend is INVALID_ARGUMENT", async () => {
    const { project } = await sampleProject();
    const error = await exportProject(project, { backend: "neptune" } as never).catch((e: unknown) => e);
    expect(isLabbookError(error, "INVALID_ARGUMENT")).toBe(true);
  });
});
