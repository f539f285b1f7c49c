import {
  type ArtifactEntry,
  defaultHandlers,
  dirnameKey,
  type Experiment,
  formatDate,
  type HandlerRegistry,
  isLabbookError,
  joinKey,
  LabbookError,
  parseDate,
  type ReleaseRecord,
  type Storage,
  toDate,
  utcNow,
} from "@labbook/core";
import { createSlot, experimentArtifacts, readSlotBytes, readSlotStream, splitLogOptions } from "@labbook/core/internal";
import { diffVersions } from "./diff.js";
import { RepositoryIndex } from "./index-file.js";
import type { VersionQuery, VersionRef } from "./lookup.js";
import { appendRelease, type FindReleaseOptions, findRelease, type Release, readReleases } from "./release.js";
import { notNewer, pendingSlot, type Slot } from "./slot.js";

/** lazyscribe 2.x's repository modes ("a" was removed in 2.0). */
export const REPOSITORY_MODES = ["r", "w", "w+"] as const;
export type RepositoryMode = (typeof REPOSITORY_MODES)[number];

export interface RepositoryOptions {
  /** Where the bytes live. The umbrella's `openRepository` picks one from the location for you. */
  storage: Storage;
  /** "r" read-only, "w" start empty (replaces the index on save), "w+" load and add (default). */
  mode?: RepositoryMode | undefined;
  /** Artifact handlers; defaults to the built-ins. */
  handlers?: HandlerRegistry | undefined;
  /** Time source for created_at, expiry and "latest" (default: now, whole seconds). */
  clock?: (() => Date) | undefined;
  /** How many times save() re-reads and retries when another writer got in first (default 8). */
  maxRetries?: number | undefined;
}

/** The options of `Repository.logArtifact`: core's `LogArtifactOptions` without `overwrite` (a repository adds versions). */
export interface RepositoryLogOptions {
  /** Handler alias: "json", "text", "bytes", "yaml", "csv" or one you registered. */
  handler: string;
  /** File name inside `<repo dir>/<name>/`. Default `<slug(name)>-<YYYYmmddHHMMSS>.<suffix>`. */
  fname?: string | undefined;
  /** Passed to the handler's writer, for example `{ indent: 2 }` for json. */
  writerOptions?: Readonly<Record<string, unknown>> | undefined;
}

export interface SetExpiryOptions extends VersionQuery {
  /** When the version expires; omit to expire it now (as lazyscribe does). */
  expiry?: Date | string | undefined;
}

/** What `filter` takes: a date (each name as of then) or exact `[name, version]` pairs. */
export type FilterSpec = Date | string | ReadonlyArray<readonly [string, VersionRef]>;

/**
 * A lazyscribe-compatible repository: every artifact name has versions 0, 1, 2…, listed in
 * `repository.json` with their files in `<repo dir>/<name>/<fname>`, and releases in
 * `releases.json` beside it.
 *
 * @example
 * const repo = await Repository.open("models/repository.json", { storage });
 * repo.logArtifact("model", weights, { handler: "json" });
 * await repo.save();
 * const asOfTuesday = await repo.loadArtifact("model", { version: new Date("2024-06-04T00:00:00Z"), match: "asof" });
 */
export class Repository {
  readonly location: string;
  readonly storage: Storage;
  readonly mode: RepositoryMode;
  readonly handlers: HandlerRegistry;
  readonly #clock: () => Date;
  readonly #maxRetries: number;
  /** repository.json, the versions it names and the save (index-file.ts). */
  readonly #index: RepositoryIndex;

  private constructor(location: string, options: RepositoryOptions) {
    const mode = options.mode ?? "w+";
    if (!REPOSITORY_MODES.includes(mode)) {
      throw new LabbookError(
        "INVALID_ARGUMENT",
        `Unknown repository mode ${JSON.stringify(mode)}: use one of ${REPOSITORY_MODES.join(", ")} (mode "a" was removed in lazyscribe 2.0).`,
      );
    }
    this.location = location;
    this.storage = options.storage;
    this.mode = mode;
    this.handlers = options.handlers ?? defaultHandlers();
    this.#clock = options.clock ?? utcNow;
    this.#maxRetries = options.maxRetries ?? 8;
    this.#index = new RepositoryIndex({
      storage: this.storage,
      location,
      handlers: this.handlers,
      clock: this.#clock,
      maxRetries: this.#maxRetries,
      conditional: mode !== "w",
    });
  }

  /**
   * Open (or start) the repository whose index is `location`, a key in `storage` such as
   * "repository.json". The index is read now (except in mode "w"); artifacts only when loaded.
   */
  static async open(location: string, options: RepositoryOptions): Promise<Repository> {
    const repo = new Repository(location, options);
    if (repo.mode !== "w" && !(await repo.#index.load()) && repo.mode === "r") {
      throw new LabbookError("NOT_FOUND", `No repository at ${repo.path}; open it in mode "w" or "w+" to create one.`, { path: repo.path });
    }
    return repo;
  }

  /** Where the index file is, for people. */
  get path(): string {
    return this.#index.path;
  }

  /** The folder key holding one folder per artifact name. */
  get dir(): string {
    return this.#index.dir;
  }

  /** The key of releases.json (beside repository.json). */
  get releasesKey(): string {
    return joinKey(this.dir, "releases.json");
  }

  /** Every entry in logging order (the order of repository.json). */
  get entries(): readonly Readonly<ArtifactEntry>[] {
    return this.#index.slots.map((s) => s.entry);
  }

  /** The artifact names, sorted. */
  names(): string[] {
    return this.#index.names();
  }

  has(name: string): boolean {
    return this.#index.has(name);
  }

  /** The versions of `name` sorted by created_at (NOT_FOUND for an unknown name). */
  versions(name: string): Readonly<ArtifactEntry>[] {
    return this.#index.index(name).sorted.map((s) => s.entry);
  }

  /** True while something logged or changed is not saved yet. */
  get dirty(): boolean {
    return this.#index.dirty;
  }

  #find(name: string, query: VersionQuery = {}): Slot {
    return this.#index.find(name, query);
  }

  /**
   * Refuse an artifact name whose folder would collide with this repository's own files: the index,
   * releases.json, their lock files, or anything the storage treats as a lock or a temp file (a
   * version stored there would wedge saves or vanish from listings).
   */
  #assertName(name: string): void {
    const index = this.location.slice(this.dir.length === 0 ? 0 : this.dir.length + 1);
    const reserved = [index, "releases.json"].flatMap((n) => [n, `${n}.lock`]).map((n) => n.toLowerCase());
    const parts = name.split("/");
    const first = (parts[0] ?? "").toLowerCase();
    const bad = reserved.includes(first)
      ? `it is the name of the repository's own file ${this.storage.describe(joinKey(this.dir, parts[0] ?? ""))}`
      : undefined;
    const suffix = parts.find((p) => /\.(lock|lbtmp)$/i.test(p));
    const why = bad ?? (suffix === undefined ? undefined : `"${suffix}" ends in .lock or .lbtmp, which storages keep for locks and unfinished writes`);
    if (why !== undefined) {
      throw new LabbookError("ARTIFACT_LOG", `Cannot log artifact "${name}" in repository ${this.path}: ${why}. Pick another name.`, {
        path: this.storage.describe(joinKey(this.dir, name)),
      });
    }
  }

  #assertWritable(what: string): void {
    if (this.mode === "r") {
      throw new LabbookError("READ_ONLY", `Cannot ${what}: repository ${this.path} is open read-only (mode "r").`, { path: this.path });
    }
  }

  #assertSaved(what: string): void {
    if (this.dirty) {
      throw new LabbookError("INVALID_ARGUMENT", `Cannot ${what} while repository ${this.path} has unsaved changes: call save() first.`, { path: this.path });
    }
  }

  /**
   * Log a new version of `name` (its latest version + 1, or 0), stamped with the clock's time.
   * Nothing is written until save().
   * @example repo.logArtifact("thresholds", { auc: 0.91 }, { handler: "json" })
   */
  logArtifact(name: string, value: unknown, options: RepositoryLogOptions): Readonly<ArtifactEntry> {
    this.#assertWritable("log an artifact");
    const { handler, fname, writerOptions } = splitLogOptions(options, { caller: `Repository logArtifact(${JSON.stringify(name)})`, overwrite: false });
    if (typeof name !== "string" || name.length === 0) throw new LabbookError("ARTIFACT_LOG", "An artifact needs a non-empty name.");
    this.#assertName(name);
    const h = this.handlers.forLog(handler, name);
    const createdAt = this.#clock();
    const version = this.has(name) ? this.#index.index(name).maxVersion() + 1 : 0;
    const core = createSlot(h, name, value, createdAt, { fname, version, writerOptions });
    const joined = joinKey(this.dir, name, core.entry.fname);
    if (fname !== undefined && this.#index.versionsOf(name).some((s) => s.entry.fname === fname)) {
      throw new LabbookError(
        "ARTIFACT_LOG",
        `Artifact "${name}" already has a version stored as "${fname}" (${this.storage.describe(joined)}); pick another fname or leave it out.`,
      );
    }
    const slot = pendingSlot(core.entry, createdAt.getTime(), { expiry: undefined, value, writerOptions, source: undefined, promoted: false });
    this.#index.add(slot);
    return slot.entry;
  }

  /** The entry of one version (see docs/repository.md for how versions are resolved). */
  getArtifactMetadata(name: string, query: VersionQuery = {}): ArtifactEntry {
    return { ...this.#find(name, query).entry };
  }

  /**
   * Read one version's value with its handler.
   * @example await repo.loadArtifact("model", { version: "2024-06-04T00:00:00", match: "asof" })
   */
  async loadArtifact<T = unknown>(name: string, query: VersionQuery = {}): Promise<T> {
    const slot = this.#find(name, query);
    if (slot.pending) return slot.value as T;
    const key = this.#index.fileKey(slot.entry);
    const where = this.storage.describe(key);
    const handler = this.handlers.forLoad(slot.entry.handler, name, where);
    const entry = slot.entry;
    return (await handler.read({
      entry,
      location: where,
      bytes: () => readSlotBytes(this.storage, entry, key),
      stream: () => readSlotStream(this.storage, entry, key),
    })) as T;
  }

  /** The stored bytes of one version as a stream, checked against its sha256 at the end. */
  async openArtifactStream(name: string, query: VersionQuery = {}): Promise<AsyncIterable<Uint8Array>> {
    const slot = this.#find(name, query);
    if (slot.pending) throw new LabbookError("ARTIFACT_LOAD", `Version ${slot.entry.version} of "${name}" is not saved yet; call save() first.`);
    return readSlotStream(this.storage, slot.entry, this.#index.fileKey(slot.entry));
  }

  /**
   * Set when a version expires (default: now). Expired versions are skipped by "latest" and by
   * as-of look-ups at or after the expiry; exact look-ups still find them. Saved on save().
   */
  setArtifactExpiry(name: string, options: SetExpiryOptions = {}): Readonly<ArtifactEntry> {
    this.#assertWritable("set an expiry");
    const { expiry, ...query } = options;
    const slot = this.#find(name, query);
    const when = expiry === undefined ? this.#clock() : toDate(expiry, "expiry");
    this.#index.setExpiry(slot, formatDate(when));
    return slot.entry;
  }

  /**
   * A unified diff between two text versions, or between `a` and the latest version. With two
   * versions, the older (by created_at) is the "from" side. Binary artifacts are UNSUPPORTED.
   */
  async versionDiff(name: string, a: VersionRef, b?: VersionRef, options: Pick<VersionQuery, "match"> = {}): Promise<string> {
    const first = this.#find(name, { version: a, match: options.match });
    let pair: [Slot, Slot];
    if (b === undefined) {
      pair = [first, this.#find(name, { match: options.match })];
    } else {
      const second = this.#find(name, { version: b, match: options.match });
      pair = second.time < first.time ? [second, first] : [first, second];
    }
    return diffVersions(this.storage, this.handlers, name, pair, (slot) => this.#index.fileKey(slot.entry));
  }

  /**
   * A read-only view with at most one version per name: a date (string or Date) keeps each name
   * as of then (names with no version by then are left out); `[name, version]` pairs keep exactly
   * those versions.
   */
  filter(spec: FilterSpec): Repository {
    this.#assertSaved("filter");
    const kept: Slot[] = [];
    if (Array.isArray(spec)) {
      for (const [name, version] of spec as ReadonlyArray<readonly [string, VersionRef]>) kept.push(this.#find(name, { version, match: "exact" }));
    } else {
      for (const name of this.names()) {
        try {
          kept.push(this.#find(name, { version: spec as Date | string, match: "asof" }));
        } catch (error) {
          if (!isLabbookError(error, "VERSION_NOT_FOUND")) throw error;
        }
      }
    }
    const view = new Repository(this.location, { storage: this.storage, mode: "r", handlers: this.handlers, clock: this.#clock });
    view.#index.reset(kept, this.#index.version);
    return view;
  }

  /** The index exactly as save() would write it (sorted keys, 4-space indent, ASCII), lazyscribe's layout. */
  serialize(): string {
    return this.#index.serialize();
  }

  /**
   * Write new artifact files, then the index. Files are created, never replaced (a taken file name
   * gets a `-1`, `-2`… variant); bytes identical to a stored version of the same name are not
   * stored again, the entry points at that file. The index is committed with a conditional write;
   * if another writer got in first, their versions are kept and ours renumbered after them. On any
   * failure the files this save wrote are removed and the stored index is left as it was.
   */
  async save(): Promise<void> {
    this.#assertWritable("save");
    await this.#index.save();
  }

  /**
   * Promote an experiment's artifact into this repository as the next version of `name`, and save.
   * The file is streamed across, so the experiment and the repository may be on different storages.
   * An artifact not newer than the latest version is refused with ARTIFACT_LOG; if the save fails,
   * the copied file is removed and the repository is as before.
   */
  async promote(experiment: Experiment, name: string): Promise<Readonly<ArtifactEntry>> {
    this.#assertWritable("promote an artifact");
    this.#assertName(name);
    const source = experiment.artifacts.find((a) => a.name === name);
    if (!source) {
      throw new LabbookError(
        "ARTIFACT_LOAD",
        `Experiment "${experiment.slug}" has no artifact named "${name}". It has: ${experiment.artifacts.map((a) => a.name).join(", ") || "none"}.`,
      );
    }
    const created = parseDate(source.created_at, "created_at");
    let version = 0;
    if (this.has(name)) {
      version = this.#index.index(name).maxVersion() + 1;
      let latest: Slot | undefined;
      try {
        latest = this.#find(name);
      } catch (error) {
        if (!isLabbookError(error, "VERSION_NOT_FOUND")) throw error;
      }
      if (latest && latest.time >= created.getTime()) throw notNewer(source, latest.entry, this.path, experiment.slug);
    }
    const { size: _size, sha256: _sha256, ...fields } = source;
    const entry: ArtifactEntry = { ...fields, version };
    const unsaved = experimentArtifacts(experiment).find(name)?.dirty === true;
    const slot = pendingSlot(entry, created.getTime(), {
      expiry: entry.expiry === null ? undefined : parseDate(entry.expiry, "expiry").getTime(),
      value: unsaved ? await experiment.loadArtifact(name) : undefined,
      writerOptions: {},
      source: unsaved ? undefined : () => experiment.openArtifactStream(name),
      promoted: true,
    });
    this.#index.add(slot);
    try {
      await this.save();
    } catch (error) {
      // save() rolls back (no sha256 left) unless its index write may have landed; then the version
      // stays, pending, so a later save() finishes it and a retried promote cannot add a second one.
      if (slot.entry.sha256 === undefined) this.#index.remove(slot);
      throw error;
    }
    return slot.entry;
  }

  /** The releases in releases.json (empty when there is none). */
  async releases(): Promise<Release[]> {
    return (await readReleases(this.storage, this.releasesKey)).releases;
  }

  /**
   * Pin the latest (unexpired) version of every name as release `tag`, appended to releases.json.
   * Names whose versions have all expired are left out. The repository must be saved.
   */
  async createRelease(tag: string): Promise<Release> {
    this.#assertWritable("create a release");
    this.#assertSaved("create a release");
    if (typeof tag !== "string" || tag.length === 0) throw new LabbookError("INVALID_ARGUMENT", "A release needs a non-empty tag.");
    const artifacts: [string, number][] = [];
    for (const name of this.names()) {
      try {
        artifacts.push([name, this.#find(name).entry.version]);
      } catch (error) {
        if (!isLabbookError(error, "VERSION_NOT_FOUND")) throw error;
      }
    }
    const record: ReleaseRecord = { tag, artifacts, created_at: formatDate(this.#clock()) };
    return appendRelease({ storage: this.storage, key: this.releasesKey, maxRetries: this.#maxRetries, record });
  }

  /**
   * A release by tag, by creation date (`match: "exact"` or `"asof"`), or the newest one.
   * Pass a Date for dates: a string is always a tag.
   */
  async findRelease(version?: string | Date, options: FindReleaseOptions = {}): Promise<Release> {
    return findRelease(await this.releases(), version, options);
  }

  /**
   * Write a minimal repository holding only a release's versions (their files and a
   * repository.json) at `location` in `storage` (default: this repository's storage), and open it
   * read-only.
   */
  async materializeRelease(release: Release | string, target: { location: string; storage?: Storage | undefined }): Promise<Repository> {
    const found = typeof release === "string" ? await this.findRelease(release) : release;
    const storage = target.storage ?? this.storage;
    const dir = dirnameKey(target.location);
    const view = this.filter(found.artifacts);
    const copied = new Set<string>();
    for (const entry of view.entries) {
      const from = this.#index.fileKey(entry);
      const to = joinKey(dir, entry.name, entry.fname);
      if (copied.has(to)) continue;
      copied.add(to);
      try {
        if (storage === this.storage) await storage.copy(from, to);
        else await storage.write(to, await readSlotStream(this.storage, entry, from));
      } catch (cause) {
        throw new LabbookError("SAVE_FAILED", `Could not copy "${entry.name}" v${entry.version} to ${storage.describe(to)}: ${(cause as Error).message}`, {
          path: storage.describe(to),
          cause,
        });
      }
    }
    await storage.write(target.location, view.serialize());
    return Repository.open(target.location, { storage, mode: "r", handlers: this.handlers, clock: this.#clock });
  }
}
