import type { Project } from "@labbook/core";
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

/** A project to read: a registered name (with --registry), or a path, file:// or s3:// location. */
export async function readProject(location: string): Promise<Project> {
  const pending = commandRegistry();
  if (!pending) return openProject(location, { mode: "r" });
  const reg = await pending;
  if (reg.hasProject(location)) return reg.project(location);
  return openProject(location, { mode: "r", registry: reg });
}

/** A repository: a registered name (with --registry), or a location, opened in `mode`. */
export async function repositoryAt(location: string, mode: "r" | "w+"): Promise<Repository> {
  const pending = commandRegistry();
  if (pending) {
    const reg = await pending;
    if (reg.hasRepository(location)) return reg.repository(location, { mode });
  }
  const { openRepository } = await import("../repository.js");
  return openRepository(location, { mode });
}
