import { type ProjectOpener, Registry, type RegistryOptions, type RepositoryOpener } from "@labbook/registry";
import type { Repository } from "@labbook/repository";
import { openProjectAt, type S3LocationOptions } from "./location.js";
import { openRepository } from "./repository.js";

export interface LabbookRegistryOptions extends Omit<RegistryOptions<Repository>, "openProject" | "openRepository"> {
  /** S3 settings for every s3:// entry (credentials belong here or in the AWS environment, never in the registry file); an entry's own storage options win. */
  s3?: S3LocationOptions | undefined;
}

/** The registry's `s3` settings with the entry's own storage options on top, for s3:// locations. */
function s3For(location: string, s3: S3LocationOptions | undefined, storageOptions: Record<string, unknown>): { s3?: S3LocationOptions } {
  return /^s3:\/\//i.test(location) ? { s3: { ...s3, ...(storageOptions as S3LocationOptions) } } : {};
}

function openers(s3: S3LocationOptions | undefined): { openProject: ProjectOpener; openRepository: RepositoryOpener<Repository> } {
  return {
    // The registry is always passed, so openProject's default registry never applies: openProjectAt is openProject here.
    openProject: (location, { mode, registry, storageOptions }) => openProjectAt(location, { mode, registry, ...s3For(location, s3, storageOptions) }),
    openRepository: (location, { mode, storageOptions }) => openRepository(location, { mode, ...s3For(location, s3, storageOptions) }),
  };
}

/**
 * A Registry that opens paths, file:// and s3:// locations.
 * @example
 * const registry = createRegistry().addProject("features", "s3://team/features", { storage: { region: "eu-west-1" } });
 * const runs = await openProject("./runs", { registry });
 */
export function createRegistry(options: LabbookRegistryOptions = {}): Registry<Repository> {
  const { s3, ...rest } = options;
  return new Registry<Repository>({ ...rest, ...openers(s3) });
}

/** Read a shared `labbook.registry.json` (locations relative to it) into a Registry that opens paths and s3:// URLs. */
export function loadRegistry(file: string, options: Omit<LabbookRegistryOptions, "baseDir"> = {}): Promise<Registry<Repository>> {
  const { s3, ...rest } = options;
  return Registry.fromFile<Repository>(file, { ...rest, ...openers(s3) });
}
