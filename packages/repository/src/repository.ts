import { createHash } from "node:crypto";
import {
  type ArtifactEntry,
  DEFAULT_MAX_INDEX_BYTES,
  defaultHandlers,
  dirnameKey,
  type Experiment,
  formatDate,
  type HandlerRegistry,
  isLabbookError,
  joinKey,
  LabbookError,
  parseDate,
  parsePyJson,
  type ReleaseRecord,
  type Storage,
  storedRepositoryFileSchema,
  stringifyPyJson,
  toDate,
  utcNow,
  type WriteOptions,
} from "@labbook/core";
import {
  type ArtifactSlot,
  commitIndex,
  createSlot,
  experimentArtifacts,
  fillArtifactDefaults,
  forEachLimit,
  numberedFname,
  readSlotBytes,
  readSlotStream,
  validateFile,
  writeSlot,
} from "@labbook/core/internal";
import { createTwoFilesPatch } from "diff";
import { type VersionIndex as Index, resolveVersion, type Versioned, VersionIndex, type VersionQuery, type VersionRef } from "./lookup.js";
import { type FindReleaseOptions, findRelease, parseReleases, type Release, releaseFromRecord, serializeReleases } from "./release.js";

/** lazyscribe 2.x's repository modes ("a" was removed in 2.0). */
export const REPOSITORY_MODES = ["r", "w", "w+"] as const;
export type RepositoryMode = (typeof REPOSITORY_MODES)[number];

export interface RepositoryOptions {
  /** Where the bytes live. The umbrella's `openRepository` picks one from the location for you. */
  storage: Storage;
  /** "r" read-only, "w" start empty (replaces the index on save), "w+" load and add (default). */
  mode?: RepositoryMode;
  /** Artifact handlers; defaults to the built-ins. */
  handlers?: HandlerRegistry;
  /** Time source for created_at, expiry and "latest" (default: now, whole seconds). */
  clock?: () => Date;
  /** How many times save() re-reads and retries when another writer got in first (default 8). */
  maxRetries?: number;
}

export interface RepositoryLogOptions {
  /** Handler alias: "json", "text", "bytes", "yaml", "csv" or one you registered. */
  handler: string;
  /** File name inside `<repo dir>/<name>/`. Default `<slug(name)>-<YYYYmmddHHMMSS>.<suffix>`. */
  fname?: string;
  /** Anything else is passed to the handler's writer. */
  [writerOption: string]: unknown;
}

export interface SetExpiryOptions extends VersionQuery {
  /** When the version expires; omit to expire it now (as lazyscribe does). */
  expiry?: Date | string | undefined;
}

/** What `filter` takes: a date (each name as of then) or exact `[name, version]` pairs. */
export type FilterSpec = Date | string | ReadonlyArray<readonly [string, VersionRef]>;

interface Slot extends Versioned {
  entry: ArtifactEntry;
  /** Not yet in the stored index. */
  pending: boolean;
  /** The fname asked for (or the default); a save may pick a free variant or an identical file's. */
  requested: string;
  value: unknown;
  writerOptions: Record<string, unknown>;
  /** Promotion: the bytes come from another artifact store, streamed. */
  source: (() => Promise<AsyncIterable<Uint8Array>>) | undefined;
  /** Logged by promote(): refused after a re-read, too, when a stored version is not older. */
  promoted: boolean;
  /** The key of the file this slot wrote itself (not a content twin's), until it is committed. */
  ownFile: string | undefined;
  /**
   * An index write naming this slot was sent and its outcome is unknown (a lost answer may have
   * committed it). Kept across saves until a save commits or a read of the index shows it absent.
   */
  sent: boolean;
}

const decoder = new TextDecoder();
const strictText = new TextDecoder("utf-8", { fatal: true });
const MAX_FNAME_TRIES = 1000;
/** Artifact names written at once by save(). */
const ARTIFACT_WRITE_CONCURRENCY = 16;

function conflictOf(error: unknown): boolean {
  return isLabbookError(error, "CONFLICT") || (isLabbookError(error, "SAVE_FAILED") && isLabbookError(error.cause, "CONFLICT"));
}

/** The same stored file: what a writer can recognise as its own entry after a lost answer. */
function sameFile(a: ArtifactEntry, b: ArtifactEntry): boolean {
  return a.name === b.name && a.fname === b.fname && a.sha256 === b.sha256 && a.size === b.size && a.created_at === b.created_at && a.handler === b.handler;
}

function notNewer(entry: ArtifactEntry, latest: ArtifactEntry, where: string, slug?: string): LabbookError {
  const of = slug === undefined ? "" : ` of experiment "${slug}"`;
  return new LabbookError(
    "ARTIFACT_LOG",
    `Artifact "${entry.name}"${of} (created ${entry.created_at}) is not newer than the latest version in ${where} (v${latest.version}, created ${latest.created_at}); nothing was promoted.`,
    { path: where },
  );
}

function slotFromEntry(entry: ArtifactEntry, where: string, index: number): Slot {
  let time: number;
  let expiry: number | undefined;
  try {
    time = parseDate(entry.created_at, "created_at").getTime();
    expiry = entry.expiry === null ? undefined : parseDate(entry.expiry, "expiry").getTime();
  } catch (cause) {
    throw new LabbookError(
      "INVALID_FORMAT",
      `${where} has an invalid date in entry [${index}] ("${entry.name}" v${entry.version}): ${(cause as Error).message}`,
      {
        path: where,
        cause,
      },
    );
  }
  return {
    entry,
    time,
    expiry,
    pending: false,
    requested: entry.fname,
    value: undefined,
    writerOptions: {},
    source: undefined,
    promoted: false,
    ownFile: undefined,
    sent: false,
  };
}

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
  #slots: Slot[] = [];
  #byName = new Map<string, Slot[]>();
  #indexes = new Map<string, Index<Slot>>();
  #version: string | undefined;
  /** Expiry changes to stored versions, by `name\0version`, re-applied if another writer commits first. */
  #expiryEdits = new Map<string, string>();

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
  }

  /**
   * Open (or start) the repository whose index is `location`, a key in `storage` such as
   * "repository.json". The index is read now (except in mode "w"); artifacts only when loaded.
   */
  static async open(location: string, options: RepositoryOptions): Promise<Repository> {
    const repo = new Repository(location, options);
    if (repo.mode !== "w") {
      const stored = await repo.#readStored();
      if (stored) {
        repo.#setSlots(stored.slots);
        repo.#version = stored.version;
      } else if (repo.mode === "r") {
        throw new LabbookError("NOT_FOUND", `No repository at ${repo.path}; open it in mode "w" or "w+" to create one.`, { path: repo.path });
      }
    }
    return repo;
  }

  /** Where the index file is, for people. */
  get path(): string {
    return this.storage.describe(this.location);
  }

  /** The folder key holding one folder per artifact name. */
  get dir(): string {
    return dirnameKey(this.location);
  }

  /** The key of releases.json (beside repository.json). */
  get releasesKey(): string {
    return joinKey(this.dir, "releases.json");
  }

  /** Every entry in logging order (the order of repository.json). */
  get entries(): readonly Readonly<ArtifactEntry>[] {
    return this.#slots.map((s) => s.entry);
  }

  /** The artifact names, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The versions of `name` sorted by created_at (NOT_FOUND for an unknown name). */
  versions(name: string): Readonly<ArtifactEntry>[] {
    return this.#index(name).sorted.map((s) => s.entry);
  }

  /** True while something logged or changed is not saved yet. */
  get dirty(): boolean {
    return this.#expiryEdits.size > 0 || this.#slots.some((s) => s.pending);
  }

  #setSlots(slots: Slot[]): void {
    this.#slots = slots;
    this.#byName = new Map();
    for (const s of slots) {
      const list = this.#byName.get(s.entry.name);
      if (list) list.push(s);
      else this.#byName.set(s.entry.name, [s]);
    }
    this.#indexes = new Map();
  }

  #addSlot(slot: Slot): void {
    this.#slots.push(slot);
    const list = this.#byName.get(slot.entry.name);
    if (list) list.push(slot);
    else this.#byName.set(slot.entry.name, [slot]);
    this.#indexes.delete(slot.entry.name);
  }

  #removeSlot(slot: Slot): void {
    this.#setSlots(this.#slots.filter((s) => s !== slot));
  }

  #index(name: string): Index<Slot> {
    let index = this.#indexes.get(name);
    if (!index) {
      const list = this.#byName.get(name);
      if (!list) {
        throw new LabbookError("NOT_FOUND", `No artifact named "${name}" in repository ${this.path}. It has: ${this.names().join(", ") || "none"}.`, {
          path: this.path,
        });
      }
      index = new VersionIndex(list);
      this.#indexes.set(name, index);
    }
    return index;
  }

  #find(name: string, query: VersionQuery = {}): Slot {
    return resolveVersion(this.#index(name), name, query, this.#clock(), this.path);
  }

  #fileKey(entry: ArtifactEntry): string {
    return joinKey(this.dir, entry.name, entry.fname);
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
    const { handler, fname, ...writerOptions } = options ?? ({} as RepositoryLogOptions);
    if (typeof handler !== "string") throw new LabbookError("ARTIFACT_LOG", 'logArtifact needs a handler, for example { handler: "json" }.');
    if (typeof name !== "string" || name.length === 0) throw new LabbookError("ARTIFACT_LOG", "An artifact needs a non-empty name.");
    this.#assertName(name);
    const h = this.handlers.forLog(handler, name);
    const createdAt = this.#clock();
    const version = this.#byName.has(name) ? this.#index(name).maxVersion() + 1 : 0;
    const core: ArtifactSlot = createSlot(h, name, value, createdAt, { fname, version, writerOptions });
    const joined = joinKey(this.dir, name, core.entry.fname);
    if (fname !== undefined && this.#byName.get(name)?.some((s) => s.entry.fname === fname)) {
      throw new LabbookError(
        "ARTIFACT_LOG",
        `Artifact "${name}" already has a version stored as "${fname}" (${this.storage.describe(joined)}); pick another fname or leave it out.`,
      );
    }
    const slot: Slot = {
      entry: core.entry,
      time: createdAt.getTime(),
      expiry: undefined,
      pending: true,
      requested: core.entry.fname,
      value,
      writerOptions,
      source: undefined,
      promoted: false,
      ownFile: undefined,
      sent: false,
    };
    this.#addSlot(slot);
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
    const key = this.#fileKey(slot.entry);
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
    return readSlotStream(this.storage, slot.entry, this.#fileKey(slot.entry));
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
    const text = formatDate(when);
    slot.entry.expiry = text;
    slot.expiry = parseDate(text).getTime();
    if (!slot.pending) this.#expiryEdits.set(`${name}\0${slot.entry.version}`, text);
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
    const texts: string[] = [];
    for (const slot of pair) {
      const entry = slot.entry;
      if (slot.pending) throw new LabbookError("ARTIFACT_LOAD", `Version ${entry.version} of "${name}" is not saved yet; call save() before diffing.`);
      const key = this.#fileKey(entry);
      const where = this.storage.describe(key);
      const handler = this.handlers.find(entry.handler);
      const binaryMessage = `Version ${entry.version} of "${name}" (${where}) is written with the binary handler "${entry.handler}": binary files cannot be compared as text diffs.`;
      if (handler?.binary) throw new LabbookError("UNSUPPORTED", binaryMessage, { path: where });
      const bytes = await readSlotBytes(this.storage, entry, key);
      try {
        texts.push(strictText.decode(bytes));
      } catch (cause) {
        throw new LabbookError("UNSUPPORTED", binaryMessage, { path: where, cause });
      }
    }
    const [from, to] = pair;
    return createTwoFilesPatch(
      `${name}/${from.entry.fname}`,
      `${name}/${to.entry.fname}`,
      texts[0] as string,
      texts[1] as string,
      `version ${from.entry.version} (${from.entry.created_at})`,
      `version ${to.entry.version} (${to.entry.created_at})`,
    );
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
    view.#setSlots(kept);
    view.#version = this.#version;
    return view;
  }

  /** The index exactly as save() would write it (sorted keys, 4-space indent, ASCII), lazyscribe's layout. */
  serialize(): string {
    return stringifyPyJson(
      this.#slots.map((s) => s.entry),
      { indent: 4, sortKeys: true },
    );
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
    const pending = this.#slots.filter((s) => s.pending);
    if (pending.length === 0 && this.#expiryEdits.size === 0 && this.#version !== undefined) return;
    try {
      // A slot with a sha256 kept its file from an earlier save whose index write may have landed.
      // Names are written in parallel; versions of one name in order, since each picks its file name
      // and content twin from the ones before it.
      const byName = new Map<string, Slot[]>();
      for (const slot of pending) if (slot.entry.sha256 === undefined) byName.set(slot.entry.name, [...(byName.get(slot.entry.name) ?? []), slot]);
      await forEachLimit([...byName.values()], ARTIFACT_WRITE_CONCURRENCY, async (slots) => {
        for (const slot of slots) await this.#writeArtifact(slot);
      });
      await this.#commitIndex();
    } catch (error) {
      // Undo only the slots the stored index cannot name: an index write whose answer was lost (in
      // this save or an earlier one) may have landed, and deleting its files would leave the index
      // pointing at nothing. Those stay, file and all, so the next save adopts or commits them.
      const landed = await this.#mayHaveLanded(pending);
      const undone = pending.filter((slot) => !landed.has(slot));
      await Promise.all(undone.map((slot) => (slot.ownFile === undefined ? undefined : this.storage.delete(slot.ownFile).catch(() => undefined))));
      for (const slot of undone) {
        slot.entry.fname = slot.requested;
        slot.ownFile = undefined;
        slot.sent = false;
        delete slot.entry.size;
        delete slot.entry.sha256;
      }
      throw error;
    }
    for (const slot of pending) {
      slot.pending = false;
      slot.value = undefined;
      slot.writerOptions = {};
      slot.source = undefined;
      slot.ownFile = undefined;
      slot.sent = false;
    }
    this.#expiryEdits.clear();
  }

  /**
   * After a failed save: the pending slots the stored index may name. Only a slot some index write
   * named can be there; for those the index is read (unreadable counts as "it may").
   */
  async #mayHaveLanded(pending: Slot[]): Promise<Set<Slot>> {
    const sent = pending.filter((s) => s.sent && s.entry.sha256 !== undefined);
    if (sent.length === 0) return new Set();
    try {
      const stored = await this.#readStored();
      return new Set(sent.filter((s) => stored?.slots.some((u) => sameFile(u.entry, s.entry)) ?? false));
    } catch {
      return new Set(sent);
    }
  }

  async #writeArtifact(slot: Slot): Promise<void> {
    const conditional = this.storage.capabilities.conditionalWrites;
    const siblings = (this.#byName.get(slot.entry.name) ?? []).filter((s) => s !== slot);
    const taken = new Set(siblings.filter((s) => !s.pending || s.entry.sha256 !== undefined).map((s) => s.entry.fname));
    for (let n = 0; n < MAX_FNAME_TRIES; n++) {
      const fname = n === 0 ? slot.requested : numberedFname(slot.requested, n);
      if (taken.has(fname)) continue;
      slot.entry.fname = fname;
      const key = this.#fileKey(slot.entry);
      try {
        if (!conditional && (await this.storage.stat(key)) !== undefined) continue;
        await this.#writeOne(slot, key, conditional ? { ifNoneMatch: "*" } : {});
      } catch (error) {
        if (conflictOf(error)) continue;
        throw error;
      }
      slot.ownFile = key;
      const twin = siblings.find((s) => s.entry.sha256 === slot.entry.sha256 && s.entry.size === slot.entry.size && s.entry.fname !== fname);
      if (twin) {
        // Content addressing: same bytes as a stored version, so point at its file instead.
        await this.storage.delete(key);
        slot.ownFile = undefined;
        slot.entry.fname = twin.entry.fname;
      }
      return;
    }
    throw new LabbookError(
      "SAVE_FAILED",
      `No free file name for artifact "${slot.entry.name}" near "${slot.requested}" in ${this.storage.describe(this.dir)}.`,
    );
  }

  async #writeOne(slot: Slot, key: string, options: WriteOptions): Promise<void> {
    if (!slot.source) {
      await writeSlot(
        { storage: this.storage, handlers: this.handlers },
        { entry: slot.entry, value: slot.value, dirty: true, writerOptions: slot.writerOptions },
        key,
        options,
      );
      return;
    }
    const where = this.storage.describe(key);
    const hash = createHash("sha256");
    let size = 0;
    try {
      const source = await slot.source();
      const counted = (async function* () {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.byteLength;
          yield chunk;
        }
      })();
      await this.storage.write(key, counted, options);
    } catch (cause) {
      if (isLabbookError(cause, "CONFLICT", "UNSAFE_PATH")) throw cause;
      throw new LabbookError("SAVE_FAILED", `Could not copy artifact "${slot.entry.name}" to ${where}: ${(cause as Error).message}`, { path: where, cause });
    }
    slot.entry.size = size;
    slot.entry.sha256 = hash.digest("hex");
  }

  async #readStored(): Promise<{ slots: Slot[]; version: string } | undefined> {
    let stored: { data: Uint8Array; version: string };
    try {
      // Bounded like a project index: a huge (or endless) repository.json fails typed, before any read.
      stored = await this.storage.readVersioned(this.location, { maxBytes: DEFAULT_MAX_INDEX_BYTES });
    } catch (error) {
      if (isLabbookError(error, "NOT_FOUND")) return undefined;
      throw error;
    }
    const entries = validateFile(storedRepositoryFileSchema, parsePyJson(decoder.decode(stored.data), this.path), this.path);
    // Fields lazyscribe defaults (expiry, version, fname) are filled in as it does.
    for (const e of entries) fillArtifactDefaults(e, { handlers: this.handlers, author: "", path: this.path });
    return { slots: (entries as ArtifactEntry[]).map((e, i) => slotFromEntry(e, this.path, i)), version: stored.version };
  }

  async #commitIndex(): Promise<void> {
    this.#version = await commitIndex({
      storage: this.storage,
      key: this.location,
      conditional: this.storage.capabilities.conditionalWrites && this.mode !== "w",
      maxRetries: this.#maxRetries,
      catchUp: () => this.#catchUp(),
      version: () => this.#version,
      serialize: () => this.serialize(),
      beforeWrite: () => {
        for (const s of this.#slots) if (s.pending) s.sent = true;
      },
    });
  }

  /**
   * Take in what other writers committed since we read the index: their entries as stored, our
   * expiry changes on top, and our unsaved versions renumbered after the stored maximum per name.
   */
  async #catchUp(): Promise<void> {
    const info = await this.storage.stat(this.location);
    if (info === undefined) {
      this.#version = undefined;
      return;
    }
    if (info.version === this.#version) return;
    const stored = await this.#readStored();
    if (!stored) {
      this.#version = undefined;
      return;
    }
    const byKey = new Map<string, Slot>();
    const max = new Map<string, number>();
    for (const s of stored.slots) {
      const key = `${s.entry.name}\0${s.entry.version}`;
      if (!byKey.has(key)) byKey.set(key, s);
      max.set(s.entry.name, Math.max(max.get(s.entry.name) ?? -1, s.entry.version));
    }
    for (const [key, expiry] of this.#expiryEdits) {
      const s = byKey.get(key);
      if (!s) continue;
      s.entry.expiry = expiry;
      s.expiry = parseDate(expiry).getTime();
    }
    // An earlier attempt of this save may have committed although its answer was lost (a reset or
    // 500 after the server wrote, then retried into a 412): our entries, same file and bytes, are
    // already stored under versions we did not know. Adopt those instead of appending them twice.
    const known = new Set(this.#slots.filter((s) => !s.pending).map((s) => `${s.entry.name}\0${s.entry.version}`));
    const unclaimed = stored.slots.filter((s) => !known.has(`${s.entry.name}\0${s.entry.version}`));
    const mine: Slot[] = [];
    for (const s of this.#slots.filter((slot) => slot.pending)) {
      const at = s.entry.sha256 === undefined ? -1 : unclaimed.findIndex((u) => sameFile(u.entry, s.entry));
      if (at < 0) {
        mine.push(s);
        continue;
      }
      const [committed] = unclaimed.splice(at, 1) as [Slot];
      s.entry.version = committed.entry.version;
      stored.slots[stored.slots.indexOf(committed)] = s;
    }
    // The promote() refusal again, against what is stored now: a concurrent promote of the same or a
    // newer artifact must not be followed by ours as a later version.
    const now = this.#clock().getTime();
    for (const s of mine) {
      if (!s.promoted) continue;
      const latest = stored.slots
        .filter((u) => u.entry.name === s.entry.name && (u.expiry === undefined || now < u.expiry))
        .reduce<Slot | undefined>((best, u) => (best === undefined || u.time >= best.time ? u : best), undefined);
      if (latest && latest.time >= s.time) throw notNewer(s.entry, latest.entry, this.path);
    }
    for (const s of mine) {
      const next = (max.get(s.entry.name) ?? -1) + 1;
      s.entry.version = next;
      max.set(s.entry.name, next);
    }
    this.#setSlots([...stored.slots, ...mine]);
    this.#version = stored.version;
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
    if (this.#byName.has(name)) {
      const index = this.#index(name);
      version = index.maxVersion() + 1;
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
    const slot: Slot = {
      entry,
      time: created.getTime(),
      expiry: entry.expiry === null ? undefined : parseDate(entry.expiry, "expiry").getTime(),
      pending: true,
      requested: entry.fname,
      value: unsaved ? await experiment.loadArtifact(name) : undefined,
      writerOptions: {},
      source: unsaved ? undefined : () => experiment.openArtifactStream(name),
      promoted: true,
      ownFile: undefined,
      sent: false,
    };
    this.#addSlot(slot);
    try {
      await this.save();
    } catch (error) {
      // save() rolls back (no sha256 left) unless its index write may have landed; then the version
      // stays, pending, so a later save() finishes it and a retried promote cannot add a second one.
      if (slot.entry.sha256 === undefined) this.#removeSlot(slot);
      throw error;
    }
    return slot.entry;
  }

  /** The releases in releases.json (empty when there is none). */
  async releases(): Promise<Release[]> {
    return (await this.#readReleases()).releases;
  }

  async #readReleases(): Promise<{ releases: Release[]; version: string | undefined }> {
    const key = this.releasesKey;
    try {
      const stored = await this.storage.readVersioned(key, { maxBytes: DEFAULT_MAX_INDEX_BYTES });
      return { releases: parseReleases(decoder.decode(stored.data), this.storage.describe(key)), version: stored.version };
    } catch (error) {
      if (isLabbookError(error, "NOT_FOUND")) return { releases: [], version: undefined };
      throw error;
    }
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
    const release = releaseFromRecord(record, this.storage.describe(this.releasesKey));
    const conditional = this.storage.capabilities.conditionalWrites;
    let current: { releases: Release[]; version: string | undefined } = { releases: [], version: undefined };
    // A write whose answer was lost may have landed: finding our own record on the retry is success.
    let sent = false;
    const landed = Symbol("landed");
    const refresh = async () => {
      current = await this.#readReleases();
      const existing = current.releases.find((r) => r.tag === tag);
      if (existing === undefined) return;
      if (sent && stringifyPyJson(existing.record, { sortKeys: true }) === stringifyPyJson(record, { sortKeys: true })) throw landed;
      throw new LabbookError("INVALID_ARGUMENT", `Release "${tag}" already exists in ${this.storage.describe(this.releasesKey)}; pick another tag.`, {
        path: this.storage.describe(this.releasesKey),
      });
    };
    if (!conditional) await refresh();
    try {
      await commitIndex({
        storage: this.storage,
        key: this.releasesKey,
        conditional,
        maxRetries: this.#maxRetries,
        catchUp: refresh,
        version: () => current.version,
        serialize: () => serializeReleases([...current.releases, release]),
        beforeWrite: () => {
          sent = true;
        },
      });
    } catch (error) {
      if (error !== landed) throw error;
    }
    return release;
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
  async materializeRelease(release: Release | string, target: { location: string; storage?: Storage }): Promise<Repository> {
    const found = typeof release === "string" ? await this.findRelease(release) : release;
    const storage = target.storage ?? this.storage;
    const dir = dirnameKey(target.location);
    const view = this.filter(found.artifacts);
    const copied = new Set<string>();
    for (const entry of view.entries) {
      const from = this.#fileKey(entry);
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
