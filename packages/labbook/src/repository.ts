import type { Storage } from "@labbook/core";
import { Repository, type RepositoryOptions } from "@labbook/repository";
import { resolveLocation, type S3LocationOptions } from "./location.js";

export type OpenRepositoryOptions = Omit<RepositoryOptions, "storage"> & {
  /** Use this storage instead of picking one from the location; the location is then a key in it. */
  storage?: Storage | undefined;
  /** For s3:// locations: region, endpoint, credentials, client... (the standard AWS chain by default). */
  s3?: S3LocationOptions | undefined;
};

/**
 * Open a repository from a path, a file:// URL or (with @labbook/storage-s3) an s3:// URL.
 * A folder means `<folder>/repository.json`.
 *
 * @example
 * const repo = await openRepository("./models", { mode: "r" });
 * const model = await repo.loadArtifact("model", { version: "2024-06-04T00:00:00", match: "asof" });
 */
export async function openRepository(location: string, options: OpenRepositoryOptions = {}): Promise<Repository> {
  const { storage, s3, ...rest } = options;
  if (storage) return Repository.open(location, { ...rest, storage });
  const resolved = await resolveLocation(location, "repository.json", { ...(s3 ? { s3 } : {}), mode: rest.mode ?? "w+" });
  return Repository.open(resolved.key, { ...rest, storage: resolved.storage });
}
