/**
 * `@labbook/core/schemas`: the zod schemas of lazyscribe's file format and of labbook's metric
 * history artifact. A subpath of its own, so that `@labbook/core` loads zod only when something
 * needs it (a write that validates, the message about an invalid file, or an import of this module).
 */
export { metricHistoryFileSchema } from "./metric-history-schema.js";
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
