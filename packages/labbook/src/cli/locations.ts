import { isLabbookError, LabbookError, type Project } from "@labbook/core";
import type { Registry } from "@labbook/registry";
import type { Repository } from "@labbook/repository";
import { openProject } from "../open.js";
import { cliContext } from "./output.js";

let registry: Promise<Registry<Repository>> | undefined;

/** The registry named by --registry or LABBOOK_REGISTRY, loaded once (and only when one is named). */
export function commandRegistry(): Promise<Registry<Repository>> | undefined {
  const file = cliContext.registryFile;
  if (file === undefined || file === "") return undefined;
  registry ??= import("../registry.js").then(({ loadRegistry }) => loadRegistry(file));
  return registry;
}

/**
 * The command's own NOT_FOUND for a missing index file: the library's message suggests opening it in
 * a writing mode, which the command does not offer.
 */
async function orMissing<T>(open: Promise<T>, what: "project" | "repository", location: string): Promise<T> {
  try {
    return await open;
  } catch (error) {
    if (!isLabbookError(error, "NOT_FOUND")) throw error;
    const where = error.path ?? location;
    const creates = what === "project" ? "logging to it with the library (openProject)" : "labbook repo promote or the library (openRepository)";
    throw new LabbookError(
      "NOT_FOUND",
      `No ${what} at ${where}. Check the location (a folder means its ${what}.json; s3://bucket/prefix for S3${cliContext.registryFile ? "; or a name in the registry" : ""}); a ${what} is made by ${creates}.`,
      { path: where, cause: error },
    );
  }
}

/** A project to read: a registered name (with --registry), or a path, file:// or s3:// location. */
export async function readProject(location: string): Promise<Project> {
  const pending = commandRegistry();
  if (!pending) return orMissing(openProject(location, { mode: "r" }), "project", location);
  const reg = await pending;
  if (reg.hasProject(location)) return reg.project(location);
  return orMissing(openProject(location, { mode: "r", registry: reg }), "project", location);
}

/** A repository: a registered name (with --registry), or a location, opened in `mode`. */
export async function repositoryAt(location: string, mode: "r" | "w+"): Promise<Repository> {
  const pending = commandRegistry();
  if (pending) {
    const reg = await pending;
    if (reg.hasRepository(location)) return reg.repository(location, { mode });
  }
  const { openRepository } = await import("../repository.js");
  return orMissing(openRepository(location, { mode }), "repository", location);
}
