/**
 * W&B contract test. NO REAL W&B SERVER IS INVOLVED: W&B has no server that runs offline. The fixture
 * test/fixtures/wandb-exchange.json is what the real Python `wandb` client (pinned in
 * tooling/python/requirements-tracking.txt) sent to a local stub (tooling/testing/src/wandb-stub.ts)
 * for one run, recorded by scripts/record-wandb-exchange.ts. Here labbook exports the same run to the
 * same stub, and we assert it sends the same operations with the same shapes.
 */
import { readFileSync } from "node:fs";
import { isLabbookError, MemoryStorage, Project } from "@labbook/core";
import { type RecordedRequest, startWandbStub, type WandbStub } from "@labbook-internal/testing";
import { afterEach, describe, expect, it } from "vitest";
import { exportProject, logRevision, type RemoteError } from "../src/index.js";
import { sampleRepository } from "./helpers.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/wandb-exchange.json", import.meta.url), "utf8")) as { wandb: string; requests: RecordedRequest[] };
const recorded = fixture.requests;

/** The operations a finished run with history, summary and an artifact needs (not the client's environment probes). */
const CORE = ["UpsertBucket", "file_stream", "CreateArtifact", "CreateArtifactManifest", "CreateArtifactFiles", "CommitArtifact", "upload"];

/** Keys at every level, with the type of each leaf: the shape two exchanges must share. */
function shape(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (typeof value === "object") return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

/** Shapes of the variables of every call of `kind`, deduplicated. */
function shapesOf(requests: RecordedRequest[], kind: string): string[] {
  return [...new Set(requests.filter((r) => r.kind === kind).map((r) => JSON.stringify(shape(r.variables))))].sort();
}

function one(requests: RecordedRequest[], kind: string): RecordedRequest {
  const found = requests.filter((r) => r.kind === kind);
  expect(found.length, kind).toBeGreaterThan(0);
  return found.at(-1) as RecordedRequest;
}

let stub: WandbStub | undefined;
afterEach(() => stub?.stop());

/** The run the Python client logged (tooling/python/record_wandb_run.py), in labbook. */
async function sameRun() {
  const project = await Project.open("project.json", { storage: new MemoryStorage(), mode: "w", author: "ada", clock: () => new Date("2024-03-04T05:06:07Z") });
  await project.log("train model", async (e) => {
    e.logParameter("lr", 0.01);
    e.logParameter("optimizer", { name: "adam", betas: [0.9, 0.999] });
    e.tag("baseline", "gpu");
    for (let step = 0; step < 3; step++) e.logMetric("loss", 1 / (step + 1), { step, time: 1_700_000_000_000 + step * 1000 });
    e.logMetric("auc", 0.91);
    e.logArtifact("config", { layers: 3 }, { handler: "json", fname: "config.json" });
  });
  await project.save();
  return project;
}

describe("W&B export against the recorded exchange of the Python client (no real W&B server)", () => {
  it("the fixture holds a whole run recorded from wandb", () => {
    expect(fixture.wandb).toBe("0.31.0");
    for (const kind of CORE)
      expect(
        recorded.some((r) => r.kind === kind),
        kind,
      ).toBe(true);
  });

  it("sends the same operations, with the same variable shapes, as the Python client", async () => {
    stub = await startWandbStub();
    const project = await sameRun();
    const summary = await exportProject(project, {
      backend: "wandb",
      baseUrl: stub.url,
      apiKey: stub.apiKey,
      entity: "stub-entity",
      project: "labbook-contract",
    });
    expect(summary).toMatchObject({ backend: "wandb", created: 1 });
    const sent = stub.requests;
    const kinds = new Set(sent.map((r) => r.kind));
    // Every core operation of the recording, and nothing the recording does not have.
    for (const kind of CORE) expect(kinds.has(kind), kind).toBe(true);
    for (const kind of kinds)
      expect(
        recorded.some((r) => r.kind === kind),
        kind,
      ).toBe(true);
    // Each call labbook makes has the shape of one the Python client made (Python also upserts a second, sparser time).
    for (const kind of ["UpsertBucket", "CreateArtifact", "CreateArtifactManifest", "CreateArtifactFiles", "CommitArtifact"]) {
      const theirs = shapesOf(recorded, kind);
      for (const ours of shapesOf(sent, kind)) expect(theirs, kind).toContain(ours);
    }
    expect(shapesOf(sent, "CreateArtifactManifest")).toEqual(shapesOf(recorded, "CreateArtifactManifest"));
    expect(sent.map((r) => r.path).filter((p) => p.endsWith("file_stream"))[0]).toBe("/files/stub-entity/labbook-contract/<run>/file_stream");
  });

  it("sends the same config, tags, history and summary values", async () => {
    stub = await startWandbStub();
    await exportProject(await sameRun(), { backend: "wandb", baseUrl: stub.url, apiKey: stub.apiKey, entity: "stub-entity", project: "labbook-contract" });
    const configOf = (requests: RecordedRequest[]) =>
      JSON.parse(requests.find((r) => r.kind === "UpsertBucket" && (r.variables?.tags as unknown) !== null)?.variables?.config as string) as Record<
        string,
        { value: unknown }
      >;
    const ours = configOf(stub.requests);
    const theirs = configOf(recorded);
    expect(ours.lr).toEqual(theirs.lr);
    expect(ours.optimizer).toEqual(theirs.optimizer);
    expect(theirs.optimizer).toEqual({ value: { name: "adam", betas: [0.9, 0.999] } });
    expect(Object.values(ours).every((v) => typeof v === "object" && v !== null && "value" in v)).toBe(true);
    const tagsOf = (requests: RecordedRequest[]) => requests.find((r) => r.kind === "UpsertBucket" && r.variables?.tags !== null)?.variables?.tags;
    expect(tagsOf(stub.requests)).toEqual(tagsOf(recorded));

    type Stream = { files: Record<string, { offset: number; content: string[] }>; complete?: boolean; exitcode?: number };
    const finalStream = (requests: RecordedRequest[]) => requests.filter((r) => r.kind === "file_stream" && (r.body as Stream).complete).at(-1)?.body as Stream;
    const history = (s: Stream) => (s.files["wandb-history.jsonl"]?.content ?? []).map((l) => JSON.parse(l) as Record<string, number>);
    const ourStream = finalStream(stub.requests);
    const theirStream = finalStream(recorded);
    expect(ourStream).toMatchObject({ complete: true, exitcode: 0 });
    expect(ourStream.files["wandb-history.jsonl"]?.offset).toBe(0);
    const strip = (rows: Array<Record<string, number>>) => rows.map(({ _timestamp, _runtime, ...rest }) => rest);
    expect(strip(history(ourStream))).toEqual(strip(history(theirStream)));
    for (const row of history(ourStream)) expect(Object.keys(row).sort()).toEqual(Object.keys(history(theirStream)[0] ?? {}).sort());
    const summaryOf = (s: Stream) => JSON.parse(s.files["wandb-summary.json"]?.content.at(-1) ?? "{}") as Record<string, number>;
    expect(summaryOf(ourStream)).toMatchObject({ loss: summaryOf(theirStream).loss, auc: summaryOf(theirStream).auc, _step: 2 });
  });

  it("uploads the same bytes under the same digests and the same manifest", async () => {
    stub = await startWandbStub();
    await exportProject(await sameRun(), { backend: "wandb", baseUrl: stub.url, apiKey: stub.apiKey, entity: "stub-entity", project: "labbook-contract" });
    const digestOf = (requests: RecordedRequest[]) => (one(requests, "CreateArtifact").variables?.input as { digest: string } | undefined)?.digest;
    // Same file bytes ({"layers": 3}) give the same md5 and so the same artifact digest as Python's.
    expect(digestOf(stub.requests)).toBe(digestOf(recorded));
    const filesOf = (requests: RecordedRequest[]) =>
      ((one(requests, "CreateArtifactFiles").variables?.input ?? {}) as { artifactFiles: Array<{ name: string; md5: string }> }).artifactFiles.map((f) => [
        f.name,
        f.md5,
      ]);
    expect(filesOf(stub.requests)).toEqual(filesOf(recorded));
    const manifestOf = (requests: RecordedRequest[]) =>
      requests.find((r) => r.kind === "upload" && r.path === "/upload/manifest")?.body as {
        contents: Record<string, { digest: string; size: number }>;
      };
    const ours = manifestOf(stub.requests);
    const theirs = manifestOf(recorded);
    expect({ ...ours, contents: undefined }).toEqual({ ...theirs, contents: undefined });
    expect(ours.contents["config.json"]).toMatchObject({ digest: theirs.contents["config.json"]?.digest, size: theirs.contents["config.json"]?.size });
    expect(stub.requests.find((r) => r.path === "/upload/artifact/config.json")?.size).toBe(13);
  });

  it("exporting again upserts the same run id", async () => {
    stub = await startWandbStub();
    const project = await sameRun();
    const options = { backend: "wandb", baseUrl: stub.url, apiKey: stub.apiKey, entity: "stub-entity", project: "labbook-contract" } as const;
    const first = await exportProject(project, options);
    const second = await exportProject(project, options);
    expect(second.runs[0]?.runId).toBe(first.runs[0]?.runId);
    const names = stub.requests.filter((r) => r.kind === "UpsertBucket").map((r) => r.variables?.name);
    expect(new Set(names).size).toBe(1);
  });

  it("a refused API key is REMOTE 401, and the project is left as it was", async () => {
    stub = await startWandbStub();
    const project = await sameRun();
    const before = project.serialize();
    const error = await exportProject(project, { backend: "wandb", baseUrl: stub.url, apiKey: "not-the-key", project: "labbook-contract" }).catch(
      (e: unknown) => e,
    );
    expect(isLabbookError(error, "REMOTE")).toBe(true);
    expect((error as RemoteError).status).toBe(401);
    expect((error as Error).message).toContain("Check the credentials");
    expect(stub.requests.map((r) => r.kind)).toEqual(["unauthorized"]);
    expect(project.serialize()).toBe(before);
  });

  it("logRevision logs the provenance bundle as the metadata of a dataset artifact of the run", async () => {
    stub = await startWandbStub();
    const repo = await sampleRepository();
    const logged = await logRevision(repo, "v1.0.0", {
      backend: "wandb",
      baseUrl: stub.url,
      apiKey: stub.apiKey,
      entity: "stub-entity",
      project: "labbook-contract",
    });
    expect(logged.id).toBe("labbook-revision:v1.0.0");
    const input = one(stub.requests, "CreateArtifact").variables?.input as { artifactTypeName: string; metadata: string; runName: string };
    expect(input.artifactTypeName).toBe("dataset");
    expect(JSON.parse(input.metadata)).toMatchObject({ revision: "v1.0.0", manifestHash: logged.bundle.manifestHash, resolved: { data: 0, model: 0 } });
    expect(input.runName).toBe(logged.runId);
    expect(shapesOf(stub.requests, "CreateArtifact")).toEqual(shapesOf(recorded, "CreateArtifact"));
  });
});
