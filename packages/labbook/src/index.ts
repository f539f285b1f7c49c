export {
  addExperimentFlow,
  assertParameters,
  type CollectOptions,
  type CollectResult,
  collect,
  type ExperimentFlowOptions,
  FLOW_MARKER,
  type FlowChild,
  type FlowSummary,
  findRun,
  isSerializedExperiment,
  jobRunId,
  type LabbookJobResult,
  type LabbookProcessorOptions,
  labbookProcessor,
  logRun,
  parseSerializedExperiment,
  RUN_TAG,
  type RunIdentity,
  runTag,
  type SerializedExperiment,
  serializeExperiment,
} from "@labbook/bullmq";
export * from "@labbook/core";
export {
  type AggregateInput,
  type AggregateStage,
  aggregate,
  aggregateHash,
  Cache,
  type CacheMetadata,
  type Cacher,
  cachers,
  canonicalParameters,
  defineExperiment,
  handlerCacher,
  hashAs,
  hashRepresentation,
  notHashed,
  type ParameterSet,
  PIPELINE_RUN_TAG,
  type PipelineExperiment,
  PipelineRecord,
  parameterHash,
  type ReportItem,
  type RunOptions,
  type RunResult as PipelineRunResult,
  renderReport,
  runPipeline,
  type Stage,
  type StageRun,
  stage,
  validateExperiment,
} from "@labbook/pipeline";
export * from "@labbook/registry";
export * from "@labbook/repository";
export { LocalStorage, type LocalStorageOptions } from "@labbook/storage-local";
// Types only: the AWS SDK is loaded when an s3:// location is first opened, never at import.
export type { S3StorageOptions } from "@labbook/storage-s3";
export {
  type ExportOptions,
  type ExportProgress,
  type ExportSummary,
  type ExportToOptions,
  exportExperiment,
  exportProject,
  FORMAT_VERSION,
  type LoggedRevision,
  type LogRevisionOptions,
  logRevision,
  type ManifestLine,
  type Materialized,
  type MaterializeOptions,
  type MlflowExportOptions,
  type MlflowOptions,
  type MlflowRevisionOptions,
  manifestHash,
  materialize,
  type ProvenanceBundle,
  provenanceBundle,
  RemoteError,
  type RunResult as ExportRunResult,
  revisionId,
  TRACKING_BACKENDS,
  type TrackingBackend,
  type WandbExportOptions,
  type WandbOptions,
} from "@labbook/tracking";
export { compileFilter, evaluateFilter, FILTER_FIELDS, type FilterNode, fieldValue, parseField, parseFilter } from "./filter-expression.js";
export { findUnreferencedFiles, type GcScan, scanForGc } from "./gc.js";
export { type OpenProjectOptions, openProject, type ResolvedLocation, type ResolveOptions, resolveLocation, type S3LocationOptions } from "./open.js";
export { createRegistry, type LabbookRegistryOptions, loadRegistry } from "./registry.js";
export { type OpenRepositoryOptions, openRepository } from "./repository.js";
export { defaultColumns, formatCell, type RenderTableOptions, renderGrid, renderTable, type TableStyle } from "./table.js";
export { startViewer, type ViewerOptions, type ViewerServer } from "./ui/server.js";
