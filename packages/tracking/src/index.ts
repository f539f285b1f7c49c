export {
  assertBackend,
  type ExportOptions,
  type ExportProgress,
  type ExportSummary,
  type ExportToOptions,
  exportExperiment,
  exportProject,
  type RunResult,
  TRACKING_BACKENDS,
  type TrackingBackend,
} from "./export.js";
export { RemoteError } from "./http.js";
export { type Materialized, type MaterializeOptions, materialize } from "./materialize.js";
export type { MlflowOptions } from "./mlflow/client.js";
export type { MlflowExportOptions } from "./mlflow/export.js";
export type { MlflowRevisionOptions } from "./mlflow/revision.js";
export { FORMAT_VERSION, LABBOOK_VERSION, type ManifestLine, manifestHash, type ProvenanceBundle, provenanceBundle, revisionId } from "./provenance.js";
export { type LoggedRevision, type LogRevisionOptions, logRevision } from "./revision.js";
export { flattenParameters } from "./run-spec.js";
export type { WandbOptions } from "./wandb/client.js";
export type { WandbExportOptions } from "./wandb/export.js";
