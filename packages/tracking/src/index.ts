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
export { MLFLOW_LIMITS, type MlflowOptions } from "./mlflow/client.js";
export type { MlflowExportOptions } from "./mlflow/export.js";
export { flattenParameters } from "./run-spec.js";
