import { LabbookError } from "./errors.js";
import { dirnameKey, type Storage } from "./storage.js";

/** One stored dependency string, `"<registry key or project path>|<upstream slug>"`, split. */
export interface DependencyReference {
  /** The string as stored. */
  readonly raw: string;
  /** A registry key or a project path (relative or absolute, or a URL). */
  readonly key: string;
  /** The upstream experiment's slug. */
  readonly slug: string;
}

/** What `referenceTo` reads of a project (a `Project` is one). */
export interface ReferencingProject {
  readonly storage: Storage;
  /** The key of the project's index file in its storage. */
  readonly location: string;
  /** Where the index file is, for people. */
  readonly path: string;
  /** The project's dependency resolver, asked for the registry key of an upstream project. */
  readonly registry?: { keyFor?(project: ReferencingProject): string | undefined } | undefined;
}

/** What `referenceTo` reads of an upstream experiment (an `Experiment` is one). */
export interface ReferencedExperiment {
  readonly slug: string;
  /** The project the experiment belongs to, if any. */
  readonly owner: ReferencingProject | undefined;
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
export function referenceTo(downstream: ReferencingProject | undefined, upstream: ReferencedExperiment): string {
  const project = upstream.owner;
  if (!project) {
    throw new LabbookError("INVALID_ARGUMENT", `Experiment "${upstream.slug}" belongs to no project: pass { key } to addDependency to name where it lives.`);
  }
  const key = downstream?.registry?.keyFor?.(project);
  if (key !== undefined) return key;
  if (downstream && downstream.storage === project.storage) return relativeKey(dirnameKey(downstream.location), project.location);
  return project.path;
}
