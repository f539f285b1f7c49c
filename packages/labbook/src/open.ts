import type { Project } from "@labbook/core";
import { type OpenProjectOptions, openProjectAt } from "./location.js";
import { createRegistry } from "./registry.js";

export {
  type OpenProjectOptions,
  type ResolvedLocation,
  type ResolveOptions,
  resolveLocation,
  type S3ClientLike,
  type S3Credentials,
  type S3LocationOptions,
} from "./location.js";

/**
 * Open a project from a path, a file:// URL or (with @labbook/storage-s3) an s3:// URL.
 * A folder means `<folder>/project.json`.
 *
 * @example
 * const project = await openProject("./runs/project.json", { author: "ada" });
 */
export async function openProject(location: string, options: OpenProjectOptions = {}): Promise<Project> {
  const { storage, s3, ...rest } = options;
  // Without a registry, an empty one still resolves dependencies by path (absolute, relative, file://, s3://), as lazyscribe does.
  if (!("registry" in rest)) rest.registry = createRegistry(s3 ? { s3 } : {});
  return openProjectAt(location, { ...rest, ...(storage ? { storage } : {}), ...(s3 ? { s3 } : {}) });
}
