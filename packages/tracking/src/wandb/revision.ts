import { stringifyPyJson } from "@labbook/core";
import { type ProvenanceBundle, revisionId } from "../provenance.js";
import type { LoggedRevision } from "../revision-types.js";
import { md5Base64, WandbClient, type WandbOptions } from "./client.js";
import { wandbRunId } from "./export.js";

/**
 * Log a revision to W&B: a run named by the revision's id, whose config holds the bundle's fields,
 * logging a `dataset` artifact whose metadata is the whole bundle and whose one file is the manifest.
 */
export async function logRevisionToWandb(bundle: ProvenanceBundle, options: WandbOptions): Promise<LoggedRevision> {
  const client = new WandbClient(options);
  const id = revisionId(bundle);
  const runId = wandbRunId(bundle.repository, id);
  const { manifest: _lines, ...fields } = bundle;
  const run = await client.upsertRun({ name: runId, displayName: id, config: fields, tags: ["labbook-revision"] });
  await client.fileStream(
    run.entity,
    run.project,
    runId,
    { "wandb-history.jsonl": [], "wandb-summary.json": [stringifyPyJson({ manifest_hash: bundle.manifestHash })] },
    true,
  );
  const bytes = new TextEncoder().encode(stringifyPyJson(bundle, { indent: 2 }));
  await client.logArtifact(
    { entity: run.entity, project: run.project, run: runId, historyStep: 0 },
    { name: id.replace(/[^A-Za-z0-9._-]/g, "-"), type: "dataset", metadata: bundle as unknown as Record<string, unknown> },
    [{ path: "labbook-manifest.json", size: bytes.byteLength, md5: md5Base64(bytes), open: async () => bytes }],
  );
  return { id, runId, bundle, created: run.inserted };
}
