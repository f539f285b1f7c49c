export { MATCH_MODES, type MatchMode, resolveVersion, type VersionQuery, type VersionRef } from "./lookup.js";
export { type FindReleaseOptions, findRelease, parseReleases, type Release, serializeReleases } from "./release.js";
export {
  type FilterSpec,
  REPOSITORY_MODES,
  Repository,
  type RepositoryLogOptions,
  type RepositoryMode,
  type RepositoryOptions,
  type SetExpiryOptions,
} from "./repository.js";
