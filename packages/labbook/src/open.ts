import path from "node:path";
import { fileURLToPath } from "node:url";
import { LabbookError, Project, type ProjectOptions, type Storage } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";

/** A location resolved to a storage and the key of the index file inside it. */
export interface ResolvedLocation {
  storage: Storage;
  key: string;
}

export type OpenProjectOptions = Omit<ProjectOptions, "storage"> & {
  /** Use this storage instead of picking one from the location; the location is then a key in it. */
  storage?: Storage;
};

/**
 * Pick a storage for a location: a plain path or file:// URL is local disk; s3:// needs
 * @labbook/storage-s3. A location naming a folder means `<folder>/<defaultFile>`.
 */
export async function resolveLocation(location: string, defaultFile: string): Promise<ResolvedLocation> {
  if (/^s3:\/\//i.test(location)) {
    throw new LabbookError("UNSUPPORTED", `s3:// locations need @labbook/storage-s3, which is not available yet in this version (${location}).`, {
      path: location,
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:\/\//i.test(location)) {
    throw new LabbookError("UNSUPPORTED", `Unsupported location ${location}: use a path, file:// or s3:// URL.`, { path: location });
  }
  const file = /^file:\/\//i.test(location) ? fileURLToPath(location) : path.resolve(location);
  const isFile = path.extname(file).toLowerCase() === ".json";
  const full = isFile ? file : path.join(file, defaultFile);
  return { storage: new LocalStorage(path.dirname(full)), key: path.basename(full) };
}

/**
 * Open a project from a path, a file:// URL or (with @labbook/storage-s3) an s3:// URL.
 * A folder means `<folder>/project.json`.
 *
 * @example
 * const project = await openProject("./runs/project.json", { author: "ada" });
 */
export async function openProject(location: string, options: OpenProjectOptions = {}): Promise<Project> {
  const { storage, ...rest } = options;
  if (storage) return Project.open(location, { ...rest, storage });
  const resolved = await resolveLocation(location, "project.json");
  return Project.open(resolved.key, { ...rest, storage: resolved.storage });
}
