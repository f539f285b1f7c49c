export { defaultHandlers } from "./artifacts/builtins.js";
export { bytesHandler } from "./artifacts/bytes.js";
export {
  ArtifactCollection,
  type ArtifactContext,
  type ArtifactSlot,
  createSlot,
  defaultFname,
  type LogArtifactOptions,
  numberedFname,
  readSlotBytes,
  readSlotStream,
  writeSlot,
} from "./artifacts/collection.js";
export { type CsvRow, csvHandler } from "./artifacts/csv.js";
export { type ArtifactHandler, type ArtifactSource, HandlerRegistry } from "./artifacts/handler.js";
export { jsonHandler } from "./artifacts/json.js";
export { textHandler } from "./artifacts/text.js";
export { yamlHandler } from "./artifacts/yaml.js";
export { type CommitIndexOptions, commitIndex } from "./commit.js";
export { canonicalDate, formatCompact, formatDate, parseDate, toDate, utcNow } from "./dates.js";
export { type DefaultsContext, fillArtifactDefaults, fillExperimentDefaults } from "./defaults.js";
export {
  type DependencyReference,
  formatDependency,
  parseDependency,
  type ReferencedExperiment,
  type ReferencingProject,
  referenceTo,
  relativeKey,
  resolveRelativeKey,
} from "./dependency.js";
export { ERROR_CODES, isLabbookError, LabbookError, type LabbookErrorCode, type LabbookErrorOptions } from "./errors.js";
export { type AddDependencyOptions, Experiment, type ExperimentContext, type ExperimentOwner, type LogTestOptions, type TagOptions } from "./experiment.js";
export { decodeIndexText } from "./index-text.js";
export { MemoryStorage } from "./memory-storage.js";
export { mergeExperimentRecords } from "./merge.js";
export {
  type LogMetricOptions,
  METRIC_HISTORY_ARTIFACT,
  type MetricHistoryFile,
  type MetricPoint,
  type MetricSeries,
  metricHistoryFileSchema,
} from "./metric-history.js";
export { forEachLimit } from "./parallel.js";
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
export { cloneJson, type JsonValue, MAX_JSON_DEPTH, markFloat, parsePyJson, pyFloatRepr, type StringifyOptions, stringifyPyJson } from "./pyjson.js";
export {
  type ArtifactEntry,
  artifactEntrySchema,
  type ExperimentRecord,
  experimentRecordSchema,
  projectFileSchema,
  type ReleaseRecord,
  releaseRecordSchema,
  releasesFileSchema,
  repositoryFileSchema,
  type StoredArtifactEntry,
  type StoredExperimentRecord,
  storedArtifactEntrySchema,
  storedExperimentRecordSchema,
  storedProjectFileSchema,
  storedRepositoryFileSchema,
  storedTestRecordSchema,
  type TestRecord,
  testRecordSchema,
} from "./schemas.js";
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
export { validateFile } from "./validate.js";
