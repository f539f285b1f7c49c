import type { DependencyResolver, Project } from "@labbook/core";
import type { Registry } from "@labbook/registry";
import type { Repository } from "@labbook/repository";
import { type OpenProjectOptions, openProjectAt, type S3LocationOptions } from "./location.js";

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
  if (!("registry" in rest)) rest.registry = emptyRegistry(s3);
  return openProjectAt(location, { ...rest, ...(storage ? { storage } : {}), ...(s3 ? { s3 } : {}) });
}

/**
 * An empty registry that loads @labbook/registry (and @labbook/repository) only when a dependency is
 * first followed, so opening a project to read it (`labbook ls`) does not load them. It has no
 * entries, so no project has a key in it.
 */
function emptyRegistry(s3: S3LocationOptions | undefined): DependencyResolver {
  let registry: Promise<Registry<Repository>> | undefined;
  return {
    openUpstream: async (reference, from) => {
      registry ??= import("./registry.js").then(({ createRegistry }) => createRegistry(s3 ? { s3 } : {}));
      return (await registry).openUpstream(reference, from);
    },
    keyFor: () => undefined,
  };
}
