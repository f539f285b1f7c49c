import { constants } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { type DependencyReference, type DependencyResolver, isLabbookError, LabbookError, Project, type Storage, tooLargeError } from "@labbook/core";
import { resolveRelativeKey } from "@labbook/core/internal";
import { checkStorageOptions, parseRegistryFile, type RegistryEntry, type RegistryFile, type StorageOptions } from "./registry-file.js";

/** What a registry passes when it opens a project location. */
export interface OpenLocationOptions {
  /** Upstream projects are only read. */
  mode: "r";
  /** The registry, so the opened project's own dependencies resolve through it too. */
  registry: Registry;
  /** The entry's storage options (region, endpoint, ...); never credentials. */
  storageOptions: StorageOptions;
}

/**
 * Opens a project from a location (path, file:// or s3:// URL). The umbrella (`labbook`) supplies
 * one, so this package imports no storage adapter. NOT_FOUND when nothing is there.
 */
export type ProjectOpener = (location: string, options: OpenLocationOptions) => Promise<Project>;

/** Opens a repository from a location; supplied by the umbrella, like `ProjectOpener`. */
export type RepositoryOpener<R> = (location: string, options: { storageOptions: StorageOptions; mode: RepositoryOpenMode }) => Promise<R>;

/** How a registered repository is opened: "r" reads only (never writes, not even a probe); "w+" (the default) can log and promote. */
export type RepositoryOpenMode = "r" | "w+";

export interface RegistryOptions<R = unknown> {
  /** Opens project locations (registered ones and path-style dependency references). */
  openProject?: ProjectOpener | undefined;
  /** Opens repository locations. */
  openRepository?: RepositoryOpener<R> | undefined;
  /** The folder relative locations are resolved against (default: the working directory). */
  baseDir?: string | undefined;
  /**
   * After trying a relative dependency path against the downstream project, try it against this
   * folder, as Python lazyscribe does with its working directory (default: `process.cwd()`;
   * `false` turns the fallback off).
   */
  cwd?: string | false | undefined;
}

export interface AddOptions {
  /** Storage options for a location (region, endpoint, ...); credentials are refused. */
  storage?: Record<string, string | number | boolean> | undefined;
}

interface Entry<T> {
  location?: string;
  storageOptions: StorageOptions;
  value?: Promise<T> | undefined;
  /** The value once known (given as an object, or opened). */
  opened?: T;
  /** A repository location opened read-only (mode "r"), apart from the writable one. */
  readOnly?: Promise<T> | undefined;
}

/** A registry file lists names and locations; anything bigger than this is not one. */
const MAX_REGISTRY_BYTES = 16 * 1024 * 1024;

/**
 * The registry file's text, refusing anything that is not a regular file (a FIFO would block the
 * read forever, /dev/zero never ends) and anything over MAX_REGISTRY_BYTES, before reading.
 */
async function readRegistryText(file: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    throw new LabbookError("NOT_FOUND", `Cannot read registry file ${file}: ${(cause as Error).message}`, { path: file, cause });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new LabbookError(
        "INVALID_FORMAT",
        `Registry file ${file} is not a regular file (a folder, pipe or device); name the labbook.registry.json file itself.`,
        {
          path: file,
        },
      );
    }
    if (stat.size > MAX_REGISTRY_BYTES) throw tooLargeError(file, stat.size, MAX_REGISTRY_BYTES);
    const bytes = Buffer.alloc(stat.size);
    const { bytesRead } = await handle.read(bytes, 0, stat.size, 0);
    return bytes.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

const URL_PATTERN = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;

const storageIds = new WeakMap<Storage, number>();
let nextStorageId = 0;
function storageId(storage: Storage): number {
  let id = storageIds.get(storage);
  if (id === undefined) {
    id = ++nextStorageId;
    storageIds.set(storage, id);
  }
  return id;
}

/** The index file a location names: a folder means `<folder>/project.json`, as `openProject` reads it. */
function indexLocation(location: string): string {
  if (/\.json$/i.test(location)) return location;
  return URL_PATTERN.test(location) ? `${location.replace(/\/+$/, "")}/project.json` : path.join(location, "project.json");
}

/** Where a project lives, for comparing two references to it. */
function identity(project: Project): string {
  return project.storage.kind === "memory" ? `memory#${storageId(project.storage)}:${project.location}` : project.path;
}

/**
 * Named projects and repositories, and the dependency resolver that finds upstream projects through
 * them. Pass it to `openProject(location, { registry })`; there is no global registry. Upstream
 * projects are opened on first use and cached, so each is read once per registry.
 *
 * @example
 * const registry = new Registry({ openProject });
 * registry.addProject("features", "s3://team/features", { storage: { region: "eu-west-1" } });
 * const project = await openProject("./runs", { registry });
 * const upstream = await project.get("train").resolveDependencies();
 */
export class Registry<R = unknown> implements DependencyResolver {
  readonly #projects = new Map<string, Entry<Project>>();
  readonly #repositories = new Map<string, Entry<R>>();
  // Projects opened for path references, by candidate location or storage + key.
  readonly #opened = new Map<string, Promise<Project | undefined>>();
  // Every project this registry handed out, by identity, so two references to one project share it.
  readonly #byIdentity = new Map<string, Project>();
  readonly #openProject: ProjectOpener | undefined;
  readonly #openRepository: RepositoryOpener<R> | undefined;
  readonly #cwd: string | false;
  /** The folder relative locations resolve against. */
  readonly baseDir: string;

  constructor(options: RegistryOptions<R> = {}) {
    this.#openProject = options.openProject;
    this.#openRepository = options.openRepository;
    this.baseDir = options.baseDir ?? process.cwd();
    this.#cwd = options.cwd ?? process.cwd();
  }

  /**
   * Read a registry file (`labbook.registry.json`). Relative locations in it are relative to the
   * file. INVALID_FORMAT when it does not validate or holds credentials.
   */
  static async fromFile<R = unknown>(file: string, options: Omit<RegistryOptions<R>, "baseDir"> = {}): Promise<Registry<R>> {
    const text = await readRegistryText(file);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (cause) {
      throw new LabbookError("INVALID_FORMAT", `Registry file ${file} is not JSON: ${(cause as Error).message}`, { path: file, cause });
    }
    return Registry.fromJSON(data, { ...options, baseDir: path.dirname(path.resolve(file)) }, file);
  }

  /** Build a registry from the registry file's data (validated). */
  static fromJSON<R = unknown>(data: unknown, options: RegistryOptions<R> = {}, where = "registry data"): Registry<R> {
    const file = parseRegistryFile(data, where);
    const registry = new Registry<R>(options);
    for (const [name, entry] of Object.entries(file.projects)) registry.addProject(name, ...entryArgs(entry));
    for (const [name, entry] of Object.entries(file.repositories)) registry.addRepository(name, ...entryArgs(entry));
    return registry;
  }

  /** The registry file's data for the entries given as locations (objects added in code are left out). */
  toJSON(): RegistryFile {
    const dump = <T>(entries: Map<string, Entry<T>>) =>
      Object.fromEntries(
        [...entries].flatMap(([name, e]): Array<[string, RegistryEntry]> => {
          if (e.location === undefined) return [];
          return [[name, Object.keys(e.storageOptions).length > 0 ? { location: e.location, storage: e.storageOptions } : e.location]];
        }),
      );
    return { version: 1, projects: dump(this.#projects), repositories: dump(this.#repositories) };
  }

  /**
   * Register a project under `name`: an open Project, or a location (path, file:// or s3:// URL)
   * opened read-only on first use. Dependencies on it are then written as `"<name>|<slug>"`.
   */
  addProject(name: string, project: Project | string, options: AddOptions = {}): this {
    this.#projects.set(name, this.#entry(name, project, options));
    return this;
  }

  /** Register a repository under `name`: an open repository, or a location opened on first use. */
  addRepository(name: string, repository: R | string, options: AddOptions = {}): this {
    this.#repositories.set(name, this.#entry(name, repository, options));
    return this;
  }

  #entry<T>(name: string, value: T | string, options: AddOptions): Entry<T> {
    if (typeof name !== "string" || name.length === 0 || name.includes("|")) {
      throw new LabbookError("INVALID_ARGUMENT", `Registry names are non-empty and have no "|" (got ${JSON.stringify(name)}).`);
    }
    const storageOptions = checkStorageOptions(options.storage ?? {}, `registry entry "${name}"`);
    if (typeof value !== "string") return { storageOptions, value: Promise.resolve(value), opened: value };
    return { location: this.#absolute(value), storageOptions };
  }

  #absolute(location: string): string {
    return URL_PATTERN.test(location) ? location : path.resolve(this.baseDir, location);
  }

  /** Registered project names. */
  get projectNames(): string[] {
    return [...this.#projects.keys()];
  }

  /** Registered repository names. */
  get repositoryNames(): string[] {
    return [...this.#repositories.keys()];
  }

  hasProject(name: string): boolean {
    return this.#projects.has(name);
  }

  hasRepository(name: string): boolean {
    return this.#repositories.has(name);
  }

  /** The project registered as `name`, opened (read-only) on first call. NOT_FOUND for an unknown name. */
  project(name: string): Promise<Project> {
    const entry = this.#projects.get(name);
    if (!entry) return Promise.reject(this.#unknown("project", name, this.projectNames));
    if (!entry.value) {
      const location = entry.location as string;
      entry.value = this.#openLocation(location, entry.storageOptions).then((p) => {
        entry.opened = this.#remember(p);
        return entry.opened;
      });
      entry.value.catch(() => {
        entry.value = undefined; // a failed open is retried next time
      });
    }
    return entry.value;
  }

  /** The repository registered as `name`, opened on first call. NOT_FOUND for an unknown name. */
  repository(name: string, options: { mode?: RepositoryOpenMode | undefined } = {}): Promise<R> {
    const entry = this.#repositories.get(name);
    if (!entry) return Promise.reject(this.#unknown("repository", name, this.repositoryNames));
    const mode = options.mode ?? "w+";
    if (entry.location !== undefined && mode === "r") {
      // A read-only open is its own (cached) repository: it must never write, so it cannot share a writer's.
      const open = this.#openRepository;
      if (!open) return Promise.reject(this.#noRepositoryOpener(name, entry.location));
      const location = entry.location;
      entry.readOnly ??= open(location, { storageOptions: entry.storageOptions, mode });
      entry.readOnly.catch(() => {
        entry.readOnly = undefined;
      });
      return entry.readOnly;
    }
    if (!entry.value) {
      const open = this.#openRepository;
      if (!open) return Promise.reject(this.#noRepositoryOpener(name, entry.location));
      entry.value = open(entry.location as string, { storageOptions: entry.storageOptions, mode }).then((r) => {
        entry.opened = r;
        return r;
      });
      entry.value.catch(() => {
        entry.value = undefined;
      });
    }
    return entry.value;
  }

  #noRepositoryOpener(name: string, location: string | undefined): LabbookError {
    return new LabbookError(
      "UNSUPPORTED",
      `Repository "${name}" is a location (${location}): create the registry with { openRepository } (the labbook package supplies one).`,
    );
  }

  #unknown(what: string, name: string, known: string[]): LabbookError {
    return new LabbookError("NOT_FOUND", `No ${what} named "${name}" in the registry (known: ${known.length > 0 ? known.join(", ") : "none"}).`, {
      path: name,
    });
  }

  #openLocation(location: string, storageOptions: StorageOptions): Promise<Project> {
    const open = this.#openProject;
    if (!open) {
      return Promise.reject(
        new LabbookError("UNSUPPORTED", `Cannot open ${location}: create the registry with { openProject } (the labbook package supplies one).`, {
          path: location,
        }),
      );
    }
    return open(location, { mode: "r", registry: this, storageOptions });
  }

  #remember(project: Project): Project {
    const id = identity(project);
    const known = this.#byIdentity.get(id);
    if (known) return known;
    this.#byIdentity.set(id, project);
    return project;
  }

  /** The registered name of `project` (the same object, or a location entry that opened it), as lazyscribe's `registry.search`. */
  keyFor(project: Project): string | undefined {
    const id = identity(project);
    for (const [name, entry] of this.#projects) {
      if (entry.opened === project || (entry.opened && identity(entry.opened) === id)) return name;
      if (entry.location !== undefined && indexLocation(entry.location) === project.path) return name;
    }
    return undefined;
  }

  /**
   * Core's `DependencyResolver`, which is how a project opened with `{ registry }` follows its
   * dependencies: the project a dependency's key names, seen from `from` (a registered name, then
   * the paths lazyscribe tries), or undefined when none opens. Public because that interface is.
   */
  async openUpstream(reference: DependencyReference, from: Project): Promise<Project | undefined> {
    this.#remember(from);
    if (this.#projects.has(reference.key)) return this.project(reference.key);
    for (const candidate of this.#candidates(reference.key, from)) {
      const project = await this.#tryOpen(candidate, from);
      if (project) return project;
    }
    return undefined;
  }

  /** Where a path-style reference may point, in order: inside the project's storage, next to the project, lazyscribe's way. */
  *#candidates(reference: string, from: Project): Generator<{ storage: Storage; key: string } | string> {
    const key = resolveRelativeKey(from.dir, reference);
    if (key !== undefined) yield { storage: from.storage, key };
    const here = from.path;
    if (URL_PATTERN.test(reference) || path.isAbsolute(reference)) {
      yield reference;
      return;
    }
    if (URL_PATTERN.test(here)) {
      const scheme = here.slice(0, here.indexOf("://"));
      if (scheme !== "memory") {
        yield new URL(reference, here).href;
        // lazyscribe: f"{protocol}://{path}" with the downstream project's protocol
        yield `${scheme}://${reference}`;
      }
      return;
    }
    yield path.resolve(path.dirname(here), reference);
    if (this.#cwd !== false) yield path.resolve(this.#cwd, reference);
  }

  async #tryOpen(candidate: { storage: Storage; key: string } | string, from: Project): Promise<Project | undefined> {
    if (typeof candidate !== "string") {
      if (candidate.key === from.location) return from;
      const cacheKey = `storage#${storageId(candidate.storage)}:${candidate.key}`;
      return this.#cached(cacheKey, async () => {
        if ((await candidate.storage.stat(candidate.key)) === undefined) return undefined;
        return Project.open(candidate.key, { storage: candidate.storage, mode: "r", handlers: from.handlers, registry: this });
      });
    }
    if (indexLocation(candidate) === from.path) return from;
    for (const [name, entry] of this.#projects) {
      // lazyscribe's registry.search: a path that a registered project lives at resolves to it.
      if (entry.location !== undefined && indexLocation(entry.location) === indexLocation(candidate)) return this.project(name);
    }
    if (!this.#openProject) return undefined;
    return this.#cached(`location:${candidate}`, () => this.#openLocation(candidate, {}));
  }

  #cached(cacheKey: string, open: () => Promise<Project | undefined>): Promise<Project | undefined> {
    let pending = this.#opened.get(cacheKey);
    if (!pending) {
      pending = open().then(
        (p) => (p ? this.#remember(p) : undefined),
        (error: unknown) => {
          if (isLabbookError(error, "NOT_FOUND", "UNSUPPORTED")) return undefined;
          throw error;
        },
      );
      this.#opened.set(cacheKey, pending);
    }
    return pending;
  }
}

function entryArgs(entry: RegistryEntry): [string, AddOptions] {
  if (typeof entry === "string") return [entry, {}];
  return [entry.location, entry.storage ? { storage: entry.storage } : {}];
}
