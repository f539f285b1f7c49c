export { defaultHandlers } from "./artifacts/builtins.js";
export { bytesHandler } from "./artifacts/bytes.js";
export type { LogArtifactOptions } from "./artifacts/collection.js";
export { type CsvRow, csvHandler } from "./artifacts/csv.js";
export { type ArtifactHandler, type ArtifactSource, HandlerRegistry } from "./artifacts/handler.js";
export { jsonHandler } from "./artifacts/json.js";
export { textHandler } from "./artifacts/text.js";
export { yamlHandler } from "./artifacts/yaml.js";
export { canonicalDate, formatCompact, formatDate, parseDate, toDate, utcNow } from "./dates.js";
export { type DependencyReference, formatDependency, parseDependency, type ReferencedExperiment, type ReferencingProject } from "./dependency.js";
export { ERROR_CODES, isLabbookError, LabbookError, type LabbookErrorCode, type LabbookErrorOptions } from "./errors.js";
export { type AddDependencyOptions, Experiment, type ExperimentOwner, type LogTestOptions, type TagOptions } from "./experiment.js";
export { MemoryStorage } from "./memory-storage.js";
export {
  type LogMetricOptions,
  METRIC_HISTORY_ARTIFACT,
  type MetricHistoryFile,
  type MetricPoint,
  type MetricSeries,
} from "./metric-history.js";
export {
  type AppendRecordOptions,
  DEFAULT_MAX_INDEX_BYTES,
  type DependencyResolver,
  type ExperimentRow,
  type LogDetachedOptions,
  PROJECT_MODES,
  Project,
  type ProjectMode,
  type ProjectOptions,
  type SaveResult,
} from "./project.js";
export { type JsonValue, MAX_JSON_DEPTH, markFloat, parsePyJson, pyFloatRepr, type StringifyOptions, stringifyPyJson } from "./pyjson.js";
export type { DeepReadonly, ReadonlyExperimentRecord, ReadonlyTestRecord } from "./readonly.js";
// The record types only: the zod schemas they come from are at "@labbook/core/schemas", so that
// importing this module does not load zod.
export type { ArtifactEntry, ExperimentRecord, ReleaseRecord, StoredArtifactEntry, StoredExperimentRecord, TestRecord } from "./schemas.js";
export { slugify } from "./slug.js";
export {
  assertSafeKey,
  assertSafeRelativePath,
  type ByteSource,
  dirnameKey,
  joinKey,
  type ObjectInfo,
  type Progress,
  type ReadOptions,
  type Storage,
  type StorageCapabilities,
  toBytes,
  tooLargeError,
  type WriteOptions,
  type WriteResult,
} from "./storage.js";
export { Test } from "./test-record.js";
