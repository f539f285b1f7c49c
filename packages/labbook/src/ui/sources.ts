/**
 * What the viewer shows: one project, one repository, or every project and repository of a registry
 * file. Each source re-reads its index when the index's version token changes (checked by polling
 * `stat`, which works alike on disk and on S3), so the page can update live.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { LabbookError, Project, type Storage } from "@labbook/core";
import { REGISTRY_FILE } from "@labbook/registry";
import type { Repository } from "@labbook/repository";
import { resolveLocation, type S3LocationOptions } from "../open.js";

export type SourceKind = "project" | "repository";

/** One index the viewer reads, re-opened read-only whenever it changes. */
export class Source<T extends Project | Repository = Project | Repository> {
  /** Bumped each time the index is re-read after a change; the page refetches when it moves. */
  generation = 0;
  #value: T;
  #token: string | undefined;
  #reloading: Promise<boolean> | undefined;

  private constructor(
    readonly id: string,
    readonly kind: SourceKind,
    readonly location: string,
    readonly storage: Storage,
    readonly key: string,
    value: T,
    token: string | undefined,
    readonly open: () => Promise<T>,
  ) {
    this.#value = value;
    this.#token = token;
  }

  /** Open the project or repository at `location` (read-only). */
  static async create(id: string, kind: SourceKind, location: string, s3?: S3LocationOptions): Promise<Source> {
    const resolved = await resolveLocation(location, kind === "project" ? "project.json" : "repository.json", s3 ? { s3 } : {});
    const { storage, key } = resolved;
    const open =
      kind === "project"
        ? () => Project.open(key, { storage, mode: "r" })
        : async () => (await import("@labbook/repository")).Repository.open(key, { storage, mode: "r" });
    // Read the token before the index: a change in between is then seen by the next poll.
    const token = (await storage.stat(key))?.version;
    const value = await open();
    return new Source(id, kind, location, storage, key, value, token, open);
  }

  get value(): T {
    return this.#value;
  }

  /** Where the index is, for people. */
  get path(): string {
    return this.storage.describe(this.key);
  }

  /** Re-read the index if its version token moved; true when it did. One re-read at a time. */
  refresh(): Promise<boolean> {
    this.#reloading ??= (async () => {
      try {
        const token = (await this.storage.stat(this.key))?.version;
        if (token === undefined || token === this.#token) return false;
        const value = await this.open();
        this.#value = value;
        this.#token = token;
        this.generation++;
        return true;
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }
}

function kindOfFile(file: string): SourceKind | "registry" | undefined {
  const base = path.basename(file).toLowerCase();
  if (base === "project.json") return "project";
  if (base === "repository.json") return "repository";
  if (base.endsWith(".registry.json") || base === "registry.json") return "registry";
  return undefined;
}

/**
 * What a `labbook ui` location names. A folder holding project.json, repository.json or
 * labbook.registry.json is that; a `.json` file is judged by its name (`*.registry.json` is a
 * registry file; any other name a project index); s3:// locations are projects unless they end in
 * repository.json.
 */
export function classifyLocation(location: string): { kind: SourceKind | "registry"; location: string } {
  if (/^s3:\/\//i.test(location)) {
    return { kind: /repository\.json$/i.test(location) ? "repository" : "project", location };
  }
  const local = /^file:\/\//i.test(location) ? new URL(location).pathname : location;
  if (existsSync(local) && statSync(local).isDirectory()) {
    for (const [file, kind] of [
      ["project.json", "project"],
      ["repository.json", "repository"],
      [REGISTRY_FILE, "registry"],
    ] as const) {
      if (existsSync(path.join(local, file))) return { kind, location: path.join(local, file) };
    }
    throw new LabbookError("NOT_FOUND", `${local} holds no project.json, repository.json or ${REGISTRY_FILE}: name one of them, or a folder that has one.`, {
      path: local,
    });
  }
  if (!existsSync(local))
    throw new LabbookError("NOT_FOUND", `Nothing at ${local}: name a project, repository or registry file, or their folder.`, { path: local });
  return { kind: kindOfFile(local) ?? "project", location: local };
}

/** At most this many upstream projects are opened beside a served project (one level, no recursion). */
const MAX_UPSTREAMS = 32;

type RegistryEntries = Record<string, string | { location: string; storage?: Record<string, unknown> | undefined }>;

async function registryEntries(file: string): Promise<{ projects: RegistryEntries; repositories: RegistryEntries }> {
  const { loadRegistry } = await import("../registry.js");
  return (await loadRegistry(file)).toJSON();
}

/**
 * The projects a served project's dependencies point to, opened read-only so the experiment page can
 * link to them: registry names (with a registry file), s3:// locations, and local paths (absolute,
 * or relative to the project's folder). One that cannot be opened is left out; the page then shows
 * the dependency as stored.
 */
async function upstreamSources(main: Source, registry: RegistryEntries, s3: S3LocationOptions | undefined): Promise<Source[]> {
  const project = main.value as Project;
  const keys = new Set<string>();
  for (const e of project.experiments) {
    for (const raw of e.toRecord().dependencies) {
      const bar = raw.lastIndexOf("|");
      if (bar > 0) keys.add(raw.slice(0, bar));
    }
  }
  keys.delete(main.id);
  const out: Source[] = [];
  for (const key of [...keys].slice(0, MAX_UPSTREAMS)) {
    const entry = registry[key];
    let location: string | undefined;
    let options = s3;
    if (entry !== undefined) {
      location = typeof entry === "string" ? entry : entry.location;
      if (typeof entry !== "string" && entry.storage) options = { ...s3, ...(entry.storage as S3LocationOptions) };
    } else if (/^s3:\/\//i.test(key)) location = key;
    else if (main.storage.kind === "local" && !/^[a-z][a-z0-9+.-]*:/i.test(key)) {
      const candidate = path.resolve(path.dirname(main.path), key);
      if (existsSync(candidate)) location = candidate;
    }
    if (location === undefined) continue;
    try {
      out.push(await Source.create(key, "project", location, options));
    } catch {
      // Not readable as a project: the dependency stays plain text.
    }
  }
  return out;
}

/**
 * Open every source a location names: one (plus the projects its dependencies point to), or each
 * project and repository of a registry file. `registryFile` (the command's --registry) resolves
 * dependency keys of a single project.
 */
export async function openSources(location: string, s3?: S3LocationOptions, registryFile?: string): Promise<Source[]> {
  const what = classifyLocation(location);
  if (what.kind !== "registry") {
    // The folder's name: ./runs/project.json and s3://bucket/team/runs are both "runs".
    const folder = /\.json$/i.test(what.location) ? path.posix.dirname(what.location.replace(/\\/g, "/")) : what.location.replace(/\/+$/, "");
    const main = await Source.create(path.posix.basename(folder) || what.kind, what.kind, what.location, s3);
    if (main.kind !== "project") return [main];
    const registry = registryFile ? (await registryEntries(registryFile)).projects : {};
    return [main, ...(await upstreamSources(main, registry, s3))];
  }
  const file = await registryEntries(what.location);
  const sources: Source[] = [];
  for (const [kind, entries] of [
    ["project", file.projects],
    ["repository", file.repositories],
  ] as const) {
    for (const [name, entry] of Object.entries(entries)) {
      const where = typeof entry === "string" ? entry : entry.location;
      const storageOptions = typeof entry === "string" ? undefined : (entry.storage as S3LocationOptions | undefined);
      sources.push(await Source.create(name, kind, where, s3 || storageOptions ? { ...s3, ...storageOptions } : undefined));
    }
  }
  if (sources.length === 0) throw new LabbookError("NOT_FOUND", `Registry file ${what.location} names no project or repository.`, { path: what.location });
  return sources;
}
