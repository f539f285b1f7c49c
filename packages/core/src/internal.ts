/**
 * Plumbing shared by labbook's own packages (repository, registry, tracking, pipeline, bullmq, the
 * umbrella). Not for applications: this subpath has no semver promise and changes in any release.
 * What users need is exported from `@labbook/core`.
 */
export {
  ArtifactCollection,
  type ArtifactContext,
  type ArtifactSlot,
  createSlot,
  defaultFname,
  type LogOptionsCaller,
  numberedFname,
  readSlotBytes,
  readSlotStream,
  splitLogOptions,
  writeSlot,
} from "./artifacts/collection.js";
export { type CreateUnderFreeNameOptions, createUnderFreeName, isNameTaken, MAX_FNAME_TRIES } from "./artifacts/free-name.js";
export { type HashState, hashing, hashState, writeHashed } from "./artifacts/hashed-write.js";
export { type CatchUpOptions, catchUpIndex } from "./catch-up.js";
export { type CommitIndexOptions, commitIndex } from "./commit.js";
export { type DefaultsContext, fillArtifactDefaults, fillExperimentDefaults } from "./defaults.js";
export { referenceTo, relativeKey, resolveRelativeKey } from "./dependency.js";
export { type ExperimentContext, experimentArtifacts } from "./experiment.js";
export { decodeIndexText } from "./index-text.js";
export { mergeExperimentRecords } from "./merge.js";
export { forEachLimit } from "./parallel.js";
export { cloneJson } from "./pyjson.js";
export { validateFile } from "./validate.js";
