import { stringifyPyJson } from "@labbook/core";
import { type ProvenanceBundle, revisionId } from "../provenance.js";
import type { LoggedRevision } from "../revision-types.js";
import { MLFLOW_LIMITS, MlflowClient, type MlflowKeyValue, type MlflowOptions } from "./client.js";

export interface MlflowRevisionOptions extends MlflowOptions {
  /** The MLflow experiment holding revision runs (created when missing). Default "labbook-revisions". */
  experimentName?: string | undefined;
}

/** MLflow keeps a dataset digest in 36 characters; the full hash is in the params and the source. */
const DIGEST_LENGTH = 36;

/**
 * Log a revision as an MLflow run named by its id: the bundle's fields as parameters, the revision as
 * a tag, the manifest as a json artifact, and the released files as one dataset input whose digest is
 * the manifest hash. Logging the same revision with the same files again finds that run and sends nothing.
 */
export async function logRevisionToMlflow(bundle: ProvenanceBundle, options: MlflowRevisionOptions): Promise<LoggedRevision> {
  const client = new MlflowClient(options);
  const id = revisionId(bundle);
  const name = options.experimentName ?? "labbook-revisions";
  const experiment = await client.getExperimentByName(name);
  const experimentId = experiment?.experiment_id ?? (await client.createExperiment(name));
  const runs = await client.searchRuns(experimentId, `tags.\`labbook.revision_id\` = '${id.replace(/'/g, "\\'")}'`);
  const same = runs.find(
    (r) => r.info.lifecycle_stage !== "deleted" && r.data.tags?.some((t) => t.key === "labbook.manifest_hash" && t.value === bundle.manifestHash),
  );
  if (same) return { id, runId: same.info.run_id, bundle, created: false };

  const run = await client.createRun(experimentId, id, Date.now(), [{ key: "labbook.revision_id", value: id }]);
  const runId = run.info.run_id;
  await client.uploadArtifact(run.info, "labbook-manifest.json", new TextEncoder().encode(stringifyPyJson(bundle, { indent: 2 })));
  await client.logInputs(runId, [
    {
      dataset: {
        name: id,
        digest: bundle.manifestHash.slice(0, DIGEST_LENGTH),
        source_type: "labbook",
        source: JSON.stringify({ uri: bundle.repository, revision: bundle.revision, manifest_hash: bundle.manifestHash }),
        schema: JSON.stringify({
          artifacts: bundle.manifest.map((l) => ({ name: l.name, version: l.version, fname: l.fname, size: l.size, sha256: l.sha256 })),
        }),
        profile: JSON.stringify({ num_artifacts: bundle.manifest.length, total_bytes: bundle.manifest.reduce((n, l) => n + l.size, 0) }),
      },
      tags: [{ key: "mlflow.data.context", value: "revision" }],
    },
  ]);
  const params: MlflowKeyValue[] = [
    { key: "labbook.revision", value: bundle.revision },
    { key: "labbook.revision_kind", value: bundle.kind },
    { key: "labbook.manifest_hash", value: bundle.manifestHash },
    { key: "labbook.version", value: bundle.labbookVersion },
    { key: "labbook.format_version", value: bundle.formatVersion },
    { key: "labbook.repository", value: bundle.repository.slice(0, MLFLOW_LIMITS.paramValueLength) },
    ...Object.entries(bundle.resolved).map(([artifact, version]) => ({
      key: `resolved.${artifact}`.slice(0, MLFLOW_LIMITS.keyLength),
      value: String(version),
    })),
  ];
  await client.updateRun(runId, { status: "FINISHED", end_time: Date.now() });
  for (let i = 0; i < params.length; i += MLFLOW_LIMITS.paramsPerBatch) {
    await client.logBatch(runId, { params: params.slice(i, i + MLFLOW_LIMITS.paramsPerBatch) });
  }
  // The manifest hash tag goes last: it is what marks the revision as fully logged.
  await client.logBatch(runId, {
    tags: [
      { key: "labbook.revision", value: bundle.revision },
      { key: "labbook.manifest_hash", value: bundle.manifestHash },
    ],
  });
  return { id, runId, bundle, created: true };
}
