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

/** Open every source a location names: one, or each project and repository of a registry file. */
export async function openSources(location: string, s3?: S3LocationOptions): Promise<Source[]> {
  const what = classifyLocation(location);
  if (what.kind !== "registry") {
    // The folder's name: ./runs/project.json and s3://bucket/team/runs are both "runs".
    const folder = /\.json$/i.test(what.location) ? path.posix.dirname(what.location.replace(/\\/g, "/")) : what.location.replace(/\/+$/, "");
    return [await Source.create(path.posix.basename(folder) || what.kind, what.kind, what.location, s3)];
  }
  const { loadRegistry } = await import("../registry.js");
  const file = (await loadRegistry(what.location)).toJSON();
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
