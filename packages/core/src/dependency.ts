import { LabbookError } from "./errors.js";
import type { Experiment } from "./experiment.js";
import type { Project } from "./project.js";
import { dirnameKey } from "./storage.js";

/** One stored dependency string, `"<registry key or project path>|<upstream slug>"`, split. */
export interface DependencyReference {
  /** The string as stored. */
  readonly raw: string;
  /** A registry key or a project path (relative or absolute, or a URL). */
  readonly key: string;
  /** The upstream experiment's slug. */
  readonly slug: string;
}

/**
 * Finds upstream projects for dependency strings. Core defines it, `@labbook/registry` implements it;
 * pass one as `registry` to `Project.open` / `openProject`.
 */
export interface DependencyResolver {
  /**
   * The project `reference.key` names, as seen from `from` (the downstream project), or undefined
   * when there is none. Called only when a dependency is first used; implementations cache, so an
   * upstream is opened once however many experiments point to it.
   */
  openUpstream(reference: DependencyReference, from: Project): Promise<Project | undefined>;
  /** The registry key of `project`, when it is registered: dependencies on it are then written with the key (as lazyscribe does). */
  keyFor?(project: Project): string | undefined;
}

/** Split a stored dependency string at its last "|"; INVALID_FORMAT when there is none. */
export function parseDependency(raw: string): DependencyReference {
  const bar = raw.lastIndexOf("|");
  if (bar <= 0 || bar === raw.length - 1) {
    throw new LabbookError("INVALID_FORMAT", `Bad dependency ${JSON.stringify(raw)}: expected "<registry key or project path>|<upstream slug>".`);
  }
  return { raw, key: raw.slice(0, bar), slug: raw.slice(bar + 1) };
}

/** The stored form of a dependency. */
export function formatDependency(key: string, slug: string): string {
  if (key.length === 0 || slug.length === 0 || slug.includes("|")) {
    throw new LabbookError(
      "INVALID_ARGUMENT",
      `Cannot record dependency ${JSON.stringify(`${key}|${slug}`)}: key and slug must be non-empty and the slug has no "|".`,
    );
  }
  return `${key}|${slug}`;
}

/**
 * A "/"-separated relative reference resolved against a folder key, or undefined when it is not
 * relative (absolute path, URL) or climbs above the storage root.
 */
export function resolveRelativeKey(dir: string, reference: string): string | undefined {
  if (reference.startsWith("/") || reference.includes("\\") || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(reference)) return undefined;
  const parts = dir.length > 0 ? dir.split("/") : [];
  for (const part of reference.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length > 0 ? parts.join("/") : undefined;
}

/** The key from folder `fromDir` to `toKey` in one storage, with ".." where needed. */
export function relativeKey(fromDir: string, toKey: string): string {
  const from = fromDir.length > 0 ? fromDir.split("/") : [];
  const to = toKey.split("/");
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  return [...from.slice(common).map(() => ".."), ...to.slice(common)].join("/");
}

/**
 * What `downstream` records for a dependency on `upstream`: the registry key when the resolver
 * knows the upstream project, a path relative to the downstream project when both share a storage,
 * and otherwise the upstream project's full location.
 */
export function referenceTo(downstream: Project | undefined, upstream: Experiment): string {
  const project = upstream.owner;
  if (!project) {
    throw new LabbookError("INVALID_ARGUMENT", `Experiment "${upstream.slug}" belongs to no project: pass { key } to addDependency to name where it lives.`);
  }
  const key = downstream?.registry?.keyFor?.(project);
  if (key !== undefined) return key;
  if (downstream && downstream.storage === project.storage) return relativeKey(dirnameKey(downstream.location), project.location);
  return project.path;
}
