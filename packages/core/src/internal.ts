/**
 * Plumbing shared by labbook's own packages (repository, registry, pipeline, tracking, bullmq, the
 * umbrella). Not part of the public API: no semver promise, anything here may change in any release.
 */
export {
  ArtifactCollection,
  createSlot,
  numberedFname,
  readSlotBytes,
  readSlotStream,
  writeSlot,
} from "./artifacts/collection.js";
export { type CreateUnderFreeNameOptions, createUnderFreeName, isNameTaken, MAX_FNAME_TRIES } from "./artifacts/free-name.js";
export { type HashState, hashing, hashState, writeHashed } from "./artifacts/hashed-write.js";
export { type CatchUpOptions, catchUpIndex } from "./catch-up.js";
export { type CommitIndexOptions, commitIndex } from "./commit.js";
export { forEachLimit } from "./parallel.js";
export { validateFile } from "./validate.js";
