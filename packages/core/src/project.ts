import { userInfo } from "node:os";
import { defaultHandlers } from "./artifacts/builtins.js";
import { type ArtifactOrigin, assertLoggableFname } from "./artifacts/collection.js";
import type { HandlerRegistry } from "./artifacts/handler.js";
import { catchUpIndex } from "./catch-up.js";
import { commitIndex } from "./commit.js";
import { utcNow } from "./dates.js";
import { fillExperimentDefaults } from "./defaults.js";
import { type DependencyReference, parseDependency, resolveRelativeKey } from "./dependency.js";
import { isLabbookError, LabbookError } from "./errors.js";
import { Experiment, type ExperimentContext } from "./experiment.js";
import { createdBefore, type HeldRecord, heldString, heldText, holdRecords, indexChunks, mayContain, sameText, sortByCreatedAt } from "./held-records.js";
import { decodeIndexText } from "./index-text.js";
import { groupCopies, mergeAllRecords, mergeExperimentRecords, sortByCreated } from "./merge.js";
import { isAscending, lazyscribeOrder } from "./order.js";
import { forEachLimit } from "./parallel.js";
import { arrayElementSpans, cloneJson, parsePyJson, pyString, stringifyPyJson } from "./pyjson.js";
import type { ArtifactEntry, ExperimentRecord } from "./schemas.js";
import { assertSafeRelativePath, dirnameKey, type Storage } from "./storage.js";
import { isCompleteExperimentRecord, loadedSchemas, loadSchemas, requireSchemas, validateFile, validateStoredProjectFile } from "./validate.js";

/** How many experiments write their artifact files at once during save(). */
const ARTIFACT_WRITE_CONCURRENCY = 16;

/** lazyscribe's project modes. */
export const PROJECT_MODES = ["r", "a", "w", "w+"] as const;
export type ProjectMode = (typeof PROJECT_MODES)[number];

export interface ProjectOptions {
  /** Where the bytes live. The umbrella's `openProject` picks one from the location for you. */
  storage: Storage;
  /** "r" read-only, "a" append (default), "w" start empty, "w+" edit everything. */
  mode?: ProjectMode | undefined;
  /** Who logs; defaults to the OS user name, as lazyscribe does. */
  author?: string | undefined;
  /** Artifact handlers; defaults to the built-ins. */
  handlers?: HandlerRegistry | undefined;
  /** Time source for created_at/last_updated (default: now, whole seconds). For reproducible files and tests. */
  clock?: (() => Date) | undefined;
  /** How many times save() re-reads and retries when another writer got in first (default 8). */
  maxRetries?: number | undefined;
  /**
   * The largest project file (bytes) that is read or written (default 256 MiB). A bigger file is
   * refused with INVALID_FORMAT before it is read, and a save that would write one fails with
   * SAVE_FAILED, instead of running out of memory: JavaScript strings stop at about 512 MiB.
   */
  maxIndexBytes?: number | undefined;
  /**
   * Where dependencies on other projects are looked up (a `Registry` from @labbook/registry).
   * Without one, only path references inside this project's storage resolve.
   */
  registry?: DependencyResolver | undefined;
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

export interface LogDetachedOptions {
  /** The experiment's created_at (and so its slug's timestamp), e.g. when its job first started; default now. */
  createdAt?: Date | undefined;
}

export interface AppendRecordOptions {
  /** A tag that identifies the experiment: it is appended only if no experiment with this tag is in the project. */
  once?: string | undefined;
}

/** One row per experiment for tables and exports: fixed columns plus `metrics.<name>` and `parameters.<name>`. */
export type ExperimentRow = {
  name: string;
  slug: string;
  short_slug: string;
  author: string;
  created_at: string;
  last_updated: string;
  tags: string[];
} & Record<`metrics.${string}` | `parameters.${string}`, unknown>;

function defaultAuthor(): string {
  try {
    return process.env.LABBOOK_AUTHOR ?? userInfo().username;
  } catch {
    return "unknown";
  }
}

/**
 * Each experiment's text as last read or written, reused by serialize() while the experiment is
 * unchanged: a save of a large project then costs what its changes cost, and an experiment nobody
 * touched is written back exactly as it was read.
 */
const storedText = new WeakMap<ExperimentRecord, string>();

/**
 * What tells experiments that share a slug apart (same name, same second, different writers): the
 * text each one had in the index when this process last read or wrote it (`seenText`), or, for one
 * not known to be committed, the text it had in an index write that may have landed (`sentText`).
 */
const seenText = new WeakMap<Experiment, string>();
const sentText = new WeakMap<Experiment, string>();

/**
 * Each record's text in the file, cut at the element positions the JSON scanner found (never by
 * searching for a separator, which a nested value can imitate); undefined when they do not line up.
 * `layout`: the file has lazyscribe's layout around the experiments, so their texts can be written
 * back as they are.
 */
function recordTexts(text: string, records: readonly ExperimentRecord[]): { texts: string[]; layout: boolean } | undefined {
  const spans = arrayElementSpans(text);
  if (!spans || spans.length !== records.length) return undefined;
  let layout = spans.length > 0 && text.endsWith("\n]") && (spans.at(-1)?.[1] ?? 0) + 2 === text.length;
  const texts = spans.map(([start, end], i) => {
    const before = i === 0 ? "[\n    " : ",\n    ";
    if (start !== (i === 0 ? 0 : (spans[i - 1]?.[1] ?? 0)) + before.length || !text.startsWith(before, start - before.length)) layout = false;
    return text.slice(start, end);
  });
  return { texts, layout };
}

function wanted(reference: DependencyReference, experiment: Experiment | undefined, path: string): string {
  return `${experiment ? `Experiment "${experiment.slug}"` : "A dependency"} in ${path} wants "${reference.slug}" from "${reference.key}"`;
}

/** 256 MiB: well under V8's longest string (about 512 Mi characters), with room to parse. */
export const DEFAULT_MAX_INDEX_BYTES = 256 * 1024 * 1024;

/**
 * A project: a list of experiments in one lazyscribe-compatible `project.json`, with artifact files
 * in a folder per experiment beside it.
 *
 * @example
 * const project = await Project.open("project.json", { storage, author: "ada" });
 * await project.log("baseline", async (exp) => { exp.logMetric("auc", 0.91) });
 * await project.save();
 */
export class Project implements Iterable<Experiment> {
  readonly location: string;
  readonly storage: Storage;
  readonly mode: ProjectMode;
  readonly author: string;
  readonly handlers: HandlerRegistry;
  #experiments: Experiment[] = [];
  #version: string | undefined;
  #maxRetries: number;
  #maxIndexBytes: number;
  #index: Map<string, Experiment> | undefined;
  readonly #registry: DependencyResolver | undefined;
  // Upstream projects in this project's own storage (when no registry is given), opened once each.
  readonly #upstreams = new Map<string, Promise<Project | undefined>>();
  readonly #context: ExperimentContext;
  // Slugs found gone from the index by the current save's catch-ups.
  #lost: string[] = [];
  // Experiments appended with a once tag: dropped by a save that finds the tag already stored.
  readonly #once = new WeakMap<Experiment, string>();
  // The texts save() built for its check, while it commits.
  #drafts: Map<Experiment, Draft> | undefined;
  // Experiments whose text this project's index may lack although they are not dirty (copies merged in
  // from other projects, experiments appended from another project): save() writes while there are
  // any, also when called again after a save that gave up.
  readonly #pending = new Set<Experiment>();
  // Of those, the ones that were never in this project's index: a catch-up that does not find them
  // does not report them lost.
  readonly #unseen = new Set<Experiment>();
  // Mode "a" only: the whole project in file order, stored experiments held as their text (not
  // parsed) beside this process's experiments, which #experiments then holds alone. Undefined once
  // anything reads the stored experiments (#materialize) and in every other mode.
  #held: Array<HeldRecord | Experiment> | undefined;

  private constructor(location: string, options: ProjectOptions) {
    const mode = options.mode ?? "a";
    if (!PROJECT_MODES.includes(mode)) {
      throw new LabbookError("INVALID_ARGUMENT", `Unknown project mode ${JSON.stringify(mode)}: use one of ${PROJECT_MODES.join(", ")}.`);
    }
    this.location = location;
    this.storage = options.storage;
    this.mode = mode;
    this.author = options.author ?? defaultAuthor();
    this.handlers = options.handlers ?? defaultHandlers();
    this.#maxRetries = options.maxRetries ?? 8;
    this.#maxIndexBytes = options.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES;
    this.#registry = options.registry;
    this.#context = { storage: this.storage, handlers: this.handlers, dir: dirnameKey(location), clock: options.clock ?? utcNow, project: this };
  }

  /**
   * Open (or start) the project whose index is `location` (a key in `storage`, e.g. "project.json").
   * Experiments are read now; artifacts only when loaded.
   */
  static async open(location: string, options: ProjectOptions): Promise<Project> {
    const project = new Project(location, options);
    // A project that can write validates appends and held records synchronously: zod loads now. A
    // read-only one loads it only for the message about an invalid file.
    if (project.mode !== "r") await loadSchemas();
    if (project.mode !== "w") await project.#load();
    return project;
  }

  /** The dependency resolver this project was opened with. */
  get registry(): DependencyResolver | undefined {
    return this.#registry;
  }

  /** Where the index file is, for people. */
  get path(): string {
    return this.storage.describe(this.location);
  }

  /** The folder key holding the experiment folders. */
  get dir(): string {
    return this.#context.dir;
  }

  get size(): number {
    return this.#held?.length ?? this.#experiments.length;
  }

  get experiments(): readonly Experiment[] {
    this.#materialize();
    return this.#experiments;
  }

  #assertIndexSize(size: number): void {
    if (size > this.#maxIndexBytes) {
      throw new LabbookError(
        "INVALID_FORMAT",
        `${this.path} is ${size} bytes, over the ${this.#maxIndexBytes}-byte limit for a project file (option maxIndexBytes); it was not read and was not changed. Move large values into artifacts.`,
        { path: this.path },
      );
    }
  }

  async #readStored(): Promise<{ records: ExperimentRecord[]; version: string; texts: string[] | undefined } | undefined> {
    const stored = await this.#readBytes();
    return stored && (await this.#parseStored(stored.data, stored.version));
  }

  /** The index's bytes and version (size limits checked); undefined when there is none. */
  async #readBytes(): Promise<{ data: Uint8Array; version: string } | undefined> {
    let stored: { data: Uint8Array; version: string };
    try {
      // Refuse an oversized file before reading it, so a huge index fails with a typed error, not an OOM.
      const info = await this.storage.stat(this.location);
      if (info !== undefined) this.#assertIndexSize(info.size);
      stored = await this.storage.readVersioned(this.location, { maxBytes: this.#maxIndexBytes });
    } catch (error) {
      if (isLabbookError(error, "NOT_FOUND")) return undefined;
      throw error;
    }
    this.#assertIndexSize(stored.data.byteLength);
    return stored;
  }

  async #parseStored(data: Uint8Array, version: string): Promise<{ records: ExperimentRecord[]; version: string; texts: string[] | undefined }> {
    const text = decodeIndexText(data, this.path);
    const parsed = await validateStoredProjectFile(parsePyJson(text, this.path), this.path);
    const defaults = { handlers: this.handlers, author: defaultAuthor(), path: this.path };
    const filled = parsed.map((r) => fillExperimentDefaults(r, defaults));
    const inFile = parsed as ExperimentRecord[];
    // Only a project that can save needs the texts; one lazyscribe would complete is written complete.
    const found = this.mode === "r" ? undefined : recordTexts(text, inFile);
    if (found?.layout) for (const [i, t] of found.texts.entries()) if (!filled[i]) storedText.set(inFile[i] as ExperimentRecord, t);
    const records = lazyscribeOrder(inFile);
    let texts = found?.texts;
    if (texts && records !== inFile) {
      const byRecord = new Map(inFile.map((r, i) => [r, texts?.[i] as string]));
      texts = records.map((r) => byRecord.get(r) as string);
    }
    return { records, version, texts };
  }

  async #load(): Promise<void> {
    const read = await this.#readBytes();
    if (!read) {
      if (this.mode === "r")
        throw new LabbookError("NOT_FOUND", `No project at ${this.path}; open it in mode "a", "w" or "w+" to create one.`, { path: this.path });
      return;
    }
    // Appending needs no stored experiment as an object: they are held as text until something reads them.
    const held = this.mode === "a" ? holdRecords(read.data, this.path) : undefined;
    if (held) {
      this.#held = held;
      this.#version = read.version;
      return;
    }
    const stored = await this.#parseStored(read.data, read.version);
    const frozen = this.mode === "r" || this.mode === "a";
    this.#experiments = stored.records.map((r, i) => this.#stored(r, stored.texts?.[i], frozen));
    this.#version = stored.version;
    this.#index = undefined;
  }

  /** An experiment read from the index, remembering its text there (its identity among same-slug ones). */
  #stored(record: ExperimentRecord, text: string | undefined, frozen: boolean): Experiment {
    const e = new Experiment(record, this.#context, { frozen, dirty: false });
    if (text !== undefined) seenText.set(e, text);
    return e;
  }

  /**
   * Mode "a": parse the held experiments into frozen Experiments, in place, the first time anything
   * reads them (after this the project works as if it had parsed the file on open). One parse of
   * their joined text, as a file is parsed; INVALID_FORMAT names the file when a record is not valid.
   */
  #materialize(): void {
    const held = this.#held;
    if (!held) return;
    const texts: string[] = [];
    for (const item of held) if (!(item instanceof Experiment)) texts.push(heldText(item));
    const records = this.#parseHeld(texts);
    let k = 0;
    this.#experiments = held.map((item) => (item instanceof Experiment ? item : this.#stored(records[k] as ExperimentRecord, texts[k++], true)));
    this.#held = undefined;
    this.#index = undefined;
  }

  /** Held texts as validated records (defaults filled as on load); each unchanged one keeps its text for the next save. */
  #parseHeld(texts: readonly string[]): ExperimentRecord[] {
    if (texts.length === 0) return [];
    const parsed = validateFile(requireSchemas().storedProjectFileSchema, parsePyJson(joinParts(texts), this.path), this.path);
    const defaults = { handlers: this.handlers, author: defaultAuthor(), path: this.path };
    return parsed.map((r, i) => {
      if (!fillExperimentDefaults(r, defaults)) storedText.set(r as ExperimentRecord, texts[i] as string);
      return r as ExperimentRecord;
    });
  }

  #assertWritable(what: string): void {
    if (this.mode === "r") {
      throw new LabbookError("READ_ONLY", `Cannot ${what}: project ${this.path} is open read-only (mode "r").`, { path: this.path });
    }
  }

  /**
   * Log a new experiment. It joins the project only when `fn` finishes; if `fn` throws, nothing is
   * added and the error reaches you.
   */
  async log(name: string, fn: (experiment: Experiment) => void | Promise<void>): Promise<Experiment> {
    this.#assertWritable("log an experiment");
    const experiment = new Experiment(Experiment.newRecord(name, this.author, this.#context.clock()), this.#context, { frozen: false, dirty: true });
    await fn(experiment);
    this.append(experiment);
    return experiment;
  }

  /**
   * Log an experiment for another process to append with appendRecord(): its artifact files are
   * written into this project's folder now (a taken file name gets a variant, nothing is
   * overwritten), the index is not touched. Returns a copy of its record; nothing is written if
   * `fn` throws.
   */
  async logDetached(name: string, fn: (experiment: Experiment) => void | Promise<void>, options: LogDetachedOptions = {}): Promise<ExperimentRecord> {
    this.#assertWritable("log an experiment");
    const created = options.createdAt ?? this.#context.clock();
    const experiment = new Experiment(Experiment.newRecord(name, this.author, created), this.#context, { frozen: false, dirty: true });
    await fn(experiment);
    await experiment.saveArtifacts();
    return cloneJson(experiment.record);
  }

  /**
   * Add an experiment record made by logDetached() on this project's storage (its files are in
   * place). With `once`, appending is idempotent across processes: nothing is added when an
   * experiment with that tag is here already, and save() leaves it out when another writer
   * committed one first. INVALID_FORMAT when `record` is not an experiment record.
   */
  appendRecord(record: unknown, options: AppendRecordOptions = {}): Experiment {
    this.#assertWritable("append an experiment");
    // A complete record passes the fast check without zod (a merged project may not have loaded it).
    const where = `an experiment record appended to ${this.path}`;
    const complete = isCompleteExperimentRecord(record);
    const schemas = complete ? undefined : loadedSchemas();
    if (!complete && !schemas)
      throw new LabbookError("INVALID_FORMAT", `${where} is not a complete experiment record; make it with logDetached(). Nothing was appended.`, {
        path: this.path,
      });
    const valid = (schemas ? validateFile(schemas.experimentRecordSchema, record, where) : record) as ExperimentRecord;
    const once = options.once;
    if (once !== undefined) {
      if (!valid.tags.includes(once)) throw new LabbookError("INVALID_ARGUMENT", `appendRecord: the record's tags must include its once tag "${once}".`);
      // Held experiments are parsed only when one may carry the tag.
      if (this.#held?.some((item) => !(item instanceof Experiment) && mayContain(item, tagSpellings(once)))) this.#materialize();
      const existing = this.#experiments.find((e) => e.tags.includes(once));
      if (existing) return existing;
    }
    const experiment = new Experiment(cloneJson(valid), this.#context, { frozen: false, dirty: true });
    if (once !== undefined) this.#once.set(experiment, once);
    this.append(experiment);
    return experiment;
  }

  /** Add an experiment made elsewhere (it keeps its own artifact location). */
  append(experiment: Experiment): void {
    this.#assertWritable("append an experiment");
    this.#experiments.push(experiment);
    if (experiment.owner !== this) {
      this.#pending.add(experiment);
      this.#unseen.add(experiment);
    }
    this.#held?.push(experiment);
    this.#index = undefined;
  }

  #lookup(): Map<string, Experiment> {
    this.#materialize();
    if (!this.#index) {
      // lazyscribe's look-up scans from the end for a slug or short slug equal to the key: the last match wins.
      const index = new Map<string, Experiment>();
      for (const e of this.#experiments) {
        index.set(e.shortSlug, e);
        index.set(e.slug, e);
      }
      this.#index = index;
    }
    return this.#index;
  }

  /**
   * An experiment by slug or short slug; NOT_FOUND otherwise. As in lazyscribe, when several match
   * (a name logged more than once, or a slug stored twice) the last one in the project's order wins.
   */
  get(slugOrShortSlug: string): Experiment {
    const found = this.find(slugOrShortSlug);
    if (!found) throw new LabbookError("NOT_FOUND", `No experiment "${slugOrShortSlug}" in ${this.path}.`, { path: this.path });
    return found;
  }

  /** Like get(), but undefined when there is none. */
  find(slugOrShortSlug: string): Experiment | undefined {
    return this.#lookup().get(slugOrShortSlug);
  }

  has(slugOrShortSlug: string): boolean {
    return this.find(slugOrShortSlug) !== undefined;
  }

  [Symbol.iterator](): Iterator<Experiment> {
    this.#materialize();
    return this.#experiments[Symbol.iterator]();
  }

  filter(predicate: (experiment: Experiment) => boolean): Experiment[] {
    this.#materialize();
    return this.#experiments.filter(predicate);
  }

  /**
   * A new project (same location, mode "w+") holding editable copies of the experiments of this and
   * `others`; changing a copy never changes the projects merged.
   * Copies of one experiment (same slug, as lazyscribe merges; experiments of one project that share
   * a slug are told apart, see groupCopies) are merged: the later `last_updated` wins; on a tie the copy whose canonical JSON sorts last wins,
   * so the result does not depend on argument order; artifacts and tests only the loser has are kept.
   * Merging moves no file: artifacts are read from where they are (another project's folder) until
   * the merged project is saved, which copies them into its own folder first, so its index never
   * names a file it does not have.
   */
  merge(...others: Project[]): Project {
    const merged = new Project(this.location, {
      storage: this.storage,
      mode: "w+",
      author: this.author,
      handlers: this.handlers,
      clock: this.#context.clock,
      ...(this.#registry ? { registry: this.#registry } : {}),
    });
    // Copies of one experiment are merged at once, and ties in created_at are ordered by slug, so the
    // result does not depend on the order of the projects. Experiments of one project that share a
    // slug are different experiments: groupCopies tells them apart.
    const bySlug = new Map<string, Experiment[][]>();
    for (const project of [this, ...others]) for (const e of project) assertMergeable(e.record, project.path);
    for (const project of [this, ...others]) {
      const own = new Map<string, Experiment[]>();
      for (const e of project) own.set(e.slug, [...(own.get(e.slug) ?? []), e]);
      for (const [key, list] of own) bySlug.set(key, [...(bySlug.get(key) ?? []), list]);
    }
    const result: Experiment[] = [];
    const stored = new Set(this.#experiments.filter((e) => e.committed && !this.#pending.has(e)));
    const seen = new Set(this.#experiments.filter((e) => e.committed && !this.#unseen.has(e)));
    for (const key of [...bySlug.keys()].sort()) {
      for (const copies of groupCopies(bySlug.get(key) ?? [], (e) => e.record)) {
        const record = mergeAllRecords(copies.map((e) => e.record));
        const origins = new Map<ArtifactEntry, ArtifactOrigin>();
        for (const e of copies) e.collectOrigins(origins);
        const whole = copies.find((e) => e.record === record);
        // A copy that won whole keeps its state (saving does not make the saver its last_updated_by);
        // a mixed record is a change. Stored copies of the slug are merged with it, never duplicated.
        const copy = Experiment.copyOf(record, merged.#context, origins, whole?.dirty ?? true);
        // Committed copies (of any project) are matched to a stored record of the slug on catch-up, so
        // two merges of one source do not store it twice. Only a copy whose record is one of the
        // target's own stored experiments is known to be in the target's index; save() writes the others.
        copy.committed = copies.some((e) => e.committed);
        if (!copies.some((e) => stored.has(e) && e.record === record)) merged.#pending.add(copy);
        if (!copies.some((e) => seen.has(e))) merged.#unseen.add(copy);
        result.push(copy);
      }
    }
    merged.#experiments = sortByCreated(result);
    return merged;
  }

  /**
   * The experiments `experiment` depends on, keyed by their short slug (as lazyscribe does).
   * Upstream projects are opened on first use, once each; MISSING_DEPENDENCY names the key, the
   * slug and the experiment when an upstream project or experiment cannot be found.
   */
  async dependenciesOf(experiment: Experiment): Promise<Map<string, Experiment>> {
    const out = new Map<string, Experiment>();
    for (const raw of experiment.dependencies) {
      const reference = parseDependency(raw);
      const upstream = await this.openUpstream(reference, experiment);
      const found = upstream.find(reference.slug);
      if (!found) {
        throw new LabbookError(
          "MISSING_DEPENDENCY",
          `Experiment "${experiment.slug}" in ${this.path} depends on "${raw}", but the upstream project ${upstream.path} (key "${reference.key}") has no experiment "${reference.slug}".`,
          { path: upstream.path },
        );
      }
      out.set(found.shortSlug, found);
    }
    return out;
  }

  /** The project a dependency reference names, opened on first use. MISSING_DEPENDENCY when there is none. */
  async openUpstream(reference: DependencyReference, experiment?: Experiment): Promise<Project> {
    let upstream: Project | undefined;
    try {
      upstream = this.#registry ? await this.#registry.openUpstream(reference, this) : await this.#openLocalUpstream(reference.key);
    } catch (cause) {
      if (isLabbookError(cause, "MISSING_DEPENDENCY", "DEPENDENCY_CYCLE")) throw cause;
      throw new LabbookError(
        "MISSING_DEPENDENCY",
        `${wanted(reference, experiment, this.path)}, but opening "${reference.key}" failed: ${(cause as Error).message}`,
        {
          path: reference.key,
          cause,
        },
      );
    }
    if (!upstream) {
      const hint = this.#registry ? "register it (registry.addProject)" : "open the project with a registry (@labbook/registry)";
      throw new LabbookError(
        "MISSING_DEPENDENCY",
        `${wanted(reference, experiment, this.path)}, but "${reference.key}" is neither a registered project nor a readable project: ${hint} or fix the path.`,
        { path: reference.key },
      );
    }
    return upstream;
  }

  #openLocalUpstream(reference: string): Promise<Project | undefined> {
    const key = resolveRelativeKey(this.dir, reference);
    if (key === undefined) return Promise.resolve(undefined);
    if (key === this.location) return Promise.resolve(this);
    let pending = this.#upstreams.get(key);
    if (!pending) {
      pending = Project.open(key, { storage: this.storage, mode: "r", handlers: this.handlers }).catch((error: unknown) => {
        if (isLabbookError(error, "NOT_FOUND")) return undefined;
        throw error;
      });
      this.#upstreams.set(key, pending);
    }
    return pending;
  }

  /** Flat rows (one per experiment) for tables and exports. */
  toRows(): ExperimentRow[] {
    this.#materialize();
    return this.#experiments.map((e) => {
      const r = e.record;
      const row: Record<string, unknown> = {
        name: r.name,
        slug: r.slug,
        short_slug: r.short_slug,
        author: r.author,
        created_at: r.created_at,
        last_updated: r.last_updated,
        tags: [...r.tags],
      };
      for (const [k, v] of Object.entries(r.metrics)) row[`metrics.${k}`] = v;
      for (const [k, v] of Object.entries(r.parameters)) row[`parameters.${k}`] = v;
      return row as ExperimentRow;
    });
  }

  /** The project file exactly as save() would write it now (sorted keys, 4-space indent, ASCII). */
  serialize(): string {
    this.#materialize();
    return joinParts(this.#parts());
  }

  /** Each experiment's text, in order: the stored one while it is unchanged, else freshly written. */
  #parts(reuse = true): string[] {
    return this.#experiments.map((e) => {
      const kept = !reuse || e.dirty || e.hasDirtyArtifacts() ? undefined : storedText.get(e.record);
      if (kept !== undefined) return kept;
      const draft = reuse ? this.#drafts?.get(e) : undefined;
      const current = draft !== undefined && draft.record === e.record && draft.edits === e.edits;
      const text = current ? fillDraft(draft) : stringifyPyJson(e.record, RECORD_LAYOUT);
      // Every text is scanned once, when it enters the cache (kept texts were cut at scanned positions).
      if (!isOneValue(text)) throw new Error(`experiment "${e.slug}" does not serialise to one JSON value (an internal error; please report it)`);
      storedText.set(e.record, text);
      return text;
    });
  }

  /**
   * Write what changed: new artifact files first, then the index, so the index never names a
   * missing file. The index is committed with a conditional write against the version that was
   * read; if another writer got in first, their experiments are merged in and the write retried.
   * On failure (SAVE_FAILED, CONFLICT after retries) the stored index is left as it was.
   */
  async save(): Promise<SaveResult> {
    this.#assertWritable("save");
    // Merged-in files are copied only by the experiment's own project (one appended from elsewhere keeps its location).
    const changed = this.#experiments.filter((e) => e.dirty || e.hasDirtyArtifacts(e.owner === this));
    if (changed.length === 0 && this.#pending.size === 0 && this.#version !== undefined) return { lost: [] };
    if (this.mode === "w+") for (const e of changed) if (e.dirty && !e.testsOnly) e.record.last_updated_by = this.author;
    // Check every changed experiment serialises before anything is written. The text built for the
    // check is the one written (see Draft), so the bulk of it is built once.
    const drafts = new Map<Experiment, Draft>();
    for (const e of changed) {
      try {
        const draft = draftOf(e);
        const size = (draft ? fillDraft(draft) : stringifyPyJson(e.record, RECORD_LAYOUT)).length;
        if (size > this.#maxIndexBytes)
          throw new Error(`it is ${size} bytes as JSON, over the ${this.#maxIndexBytes}-byte limit (option maxIndexBytes); log large values as artifacts`);
        if (draft) drafts.set(e, draft);
      } catch (cause) {
        throw new LabbookError("SAVE_FAILED", `Cannot save experiment "${e.slug}" to ${this.path}: ${(cause as Error).message}. Nothing was written.`, {
          path: this.path,
          cause,
        });
      }
    }
    // Without conditional writes a concurrent save would be lost silently; refuse before writing anything.
    if (!this.storage.capabilities.conditionalWrites && this.mode !== "w") {
      throw new LabbookError(
        "UNSUPPORTED",
        `Cannot save ${this.path} safely: this ${this.storage.kind} storage does not honour conditional writes, so another writer's save could be overwritten without notice. Use a storage or server that supports them, or open the project in mode "w" to replace the file. Nothing was written.`,
        { path: this.path },
      );
    }
    // Artifact files go out several at a time, so local fsyncs and S3 round trips overlap instead of queueing.
    await forEachLimit(changed, ARTIFACT_WRITE_CONCURRENCY, (e) => e.saveArtifacts(e.owner === this));
    this.#lost = [];
    this.#drafts = drafts;
    try {
      await this.#commitIndex();
    } finally {
      this.#drafts = undefined;
    }
    for (const e of changed) e.markClean();
    this.#pending.clear();
    this.#unseen.clear();
    const lost = [...new Set(this.#lost)];
    if (lost.length > 0) {
      process.emitWarning(
        `${lost.length} experiment(s) this process saw committed in ${this.path} were gone from it when this save re-read it: ${lost.join(", ")}. Another writer rewrote the file without coordinating (Python lazyscribe does); this save wrote them back. See docs/interop.md for sharing a project with Python writers.`,
        { type: "LabbookWarning", code: "LABBOOK_LOST_EXPERIMENTS" },
      );
    }
    return { lost };
  }

  async #commitIndex(): Promise<void> {
    let parts: string[] = [];
    this.#version = await commitIndex({
      storage: this.storage,
      key: this.location,
      conditional: this.storage.capabilities.conditionalWrites && this.mode !== "w",
      maxRetries: this.#maxRetries,
      catchUp: () => this.#catchUp(),
      version: () => this.#version,
      serialize: () => {
        if (this.#held) {
          const held = this.#heldIndex();
          parts = held.parts;
          return held.chunks;
        }
        this.#keepAscending();
        parts = this.#parts();
        // The check that the text parses, kept cheap: every part was scanned as one whole JSON value
        // when it was cut from a file or written, the frame around them is fixed, so what is left is
        // that each part is still an object. If one is not, every experiment is written afresh.
        if (!parts.every((p) => p.startsWith("{") && p.endsWith("}"))) parts = this.#parts(false);
        const text = joinParts(parts);
        // The file is ASCII (non-ASCII is escaped), so length is its size in bytes.
        if (text.length > this.#maxIndexBytes)
          throw new Error(`it would be ${text.length} bytes, over the ${this.#maxIndexBytes}-byte limit (option maxIndexBytes)`);
        return text;
      },
      // An experiment not known to be committed may be from now on, if this write lands unanswered.
      beforeWrite: () => {
        for (const [i, e] of this.#experiments.entries()) if (!e.committed && parts[i] !== undefined) sentText.set(e, parts[i]);
      },
    });
    for (const [i, e] of this.#experiments.entries()) if (parts[i] !== undefined) seenText.set(e, parts[i]);
  }

  /** The file is ascending by created_at (as lazyscribe holds it): one logged with an earlier clock moves back. */
  #keepAscending(): void {
    if (isAscending(this.#experiments)) return;
    this.#experiments = sortByCreated(this.#experiments);
    this.#index = undefined;
  }

  /** Merge in whatever other writers committed since we last read the index. */
  async #catchUp(): Promise<void> {
    if (this.#held) return this.#catchUpHeld();
    await catchUpIndex({
      storage: this.storage,
      key: this.location,
      known: this.#version,
      read: () => this.#readStored(),
      gone: () => {
        this.#version = undefined;
      },
      merge: (stored) => this.#takeIn(stored),
    });
  }

  /** Take in the stored index (changed by other writers since we read it), keeping our experiments. */
  #takeIn(stored: { records: ExperimentRecord[]; version: string; texts: string[] | undefined }): void {
    const frozen = this.mode === "a";
    const owners = matchStored(stored.records, stored.texts, this.#experiments);
    const placed = new Set<Experiment>();
    const result = stored.records.map((record, i) => {
      const own = owners[i];
      const text = stored.texts?.[i];
      if (!own) return this.#stored(record, text, frozen);
      // Stored as this process last saw or sent it: nobody else changed it, so ours is simply newer.
      if (text === undefined || (text !== seenText.get(own) && text !== sentText.get(own))) own.replaceRecord(mergeExperimentRecords(record, own.record));
      own.committed = true;
      if (text === undefined) seenText.delete(own);
      else seenText.set(own, text);
      placed.add(own);
      return own;
    });
    let storedTags: Set<string> | undefined;
    const storedOnce = (e: Experiment) => {
      const once = this.#once.get(e);
      if (once === undefined) return false;
      storedTags ??= new Set(stored.records.flatMap((r) => r.tags));
      return storedTags.has(once);
    };
    const added = this.#experiments.filter((e) => !placed.has(e) && !storedOnce(e));
    // Committed experiments missing from the index were removed by a writer that does not merge; they are written back.
    for (const e of added) if (e.committed && !this.#unseen.has(e)) this.#lost.push(e.slug);
    this.#experiments = added.length > 0 ? sortByCreated([...result, ...added]) : result;
    this.#version = stored.version;
    this.#index = undefined;
  }

  /**
   * Mode "a": the index as chunks, held experiments as the bytes they were read as, this process's
   * as save() writes them. `parts` are this process's texts, in #experiments' order. The check
   * before commit is what the scanner did when the held bytes were read, and the one-value check of
   * #parts for every new text; the frame between them is fixed.
   */
  #heldIndex(): { chunks: Uint8Array[]; parts: string[] } {
    let held = this.#held as Array<HeldRecord | Experiment>;
    const createdAt = (item: HeldRecord | Experiment) => (item instanceof Experiment ? item.record.created_at : item.created_at);
    const before = (x: HeldRecord | Experiment, y: HeldRecord | Experiment) =>
      x instanceof Experiment || y instanceof Experiment ? createdAt(x) < createdAt(y) : createdBefore(x, y);
    for (let i = 1; i < held.length; i++) {
      if (before(held[i] as HeldRecord | Experiment, held[i - 1] as HeldRecord | Experiment)) {
        held = this.#held = sortByCreatedAt(held, createdAt);
        this.#experiments = held.filter((item): item is Experiment => item instanceof Experiment);
        this.#index = undefined;
        break;
      }
    }
    let parts = this.#parts();
    if (!parts.every((p) => p.startsWith("{") && p.endsWith("}"))) parts = this.#parts(false);
    const texts = new Map(this.#experiments.map((e, i) => [e, parts[i] as string]));
    const { chunks, size } = indexChunks(held.map((item) => (item instanceof Experiment ? (texts.get(item) as string) : item)));
    if (size > this.#maxIndexBytes) throw new Error(`it would be ${size} bytes, over the ${this.#maxIndexBytes}-byte limit (option maxIndexBytes)`);
    return { chunks, parts };
  }

  /** One held text as a validated record (for a merge with another writer's copy). */
  #parseHeldOne(record: HeldRecord): ExperimentRecord {
    return this.#parseHeld([heldText(record)])[0] as ExperimentRecord;
  }

  /**
   * #catchUp for mode "a", on held texts: the same outcome as the full path (others' experiments
   * kept, ours added, copies of one experiment merged, committed experiments gone from the index
   * written back and reported in `lost`), with only the records that need a merge parsed.
   */
  async #catchUpHeld(): Promise<void> {
    const info = await this.storage.stat(this.location);
    if (info === undefined) {
      this.#version = undefined;
      return;
    }
    if (info.version === this.#version) return;
    const read = await this.#readBytes();
    if (!read) {
      this.#version = undefined;
      return;
    }
    const next = holdRecords(read.data, this.path);
    if (!next) {
      // Another writer left a file the scanner does not take verbatim: parse everything, as the other modes do.
      this.#materialize();
      return this.#catchUp();
    }
    const mine = this.#held as Array<HeldRecord | Experiment>;
    const owners = matchHeld(next, mine);
    const placed = new Set<HeldRecord | Experiment>();
    const result = next.map((record, i): HeldRecord | Experiment => {
      const own = owners[i];
      if (own === undefined) return record;
      placed.add(own);
      if (!(own instanceof Experiment)) {
        if (sameText(record, own)) return record;
        // Another writer changed an experiment this process holds: merge as the full path does.
        const theirs = this.#parseHeldOne(record);
        const merged = mergeExperimentRecords(theirs, this.#parseHeldOne(own));
        if (merged === theirs) return record;
        return heldString(stringifyPyJson(merged, { indent: 4, sortKeys: true, level: 1 }), heldFields(merged));
      }
      const text = heldText(record);
      if (text !== seenText.get(own) && text !== sentText.get(own)) own.replaceRecord(mergeExperimentRecords(this.#parseHeldOne(record), own.record));
      own.committed = true;
      seenText.set(own, text);
      return own;
    });
    const storedOnce = (e: Experiment) => {
      const once = this.#once.get(e);
      if (once === undefined) return false;
      const spellings = tagSpellings(once);
      return next.some((r) => mayContain(r, spellings) && this.#parseHeldOne(r).tags.includes(once));
    };
    const added = mine.filter((item) => !placed.has(item) && !(item instanceof Experiment && storedOnce(item)));
    // Committed experiments missing from the index were removed by a writer that does not merge; they are written back.
    for (const item of added) if (!(item instanceof Experiment) || (item.committed && !this.#unseen.has(item))) this.#lost.push(item.slug);
    const held =
      added.length > 0 ? sortByCreatedAt([...result, ...added], (item) => (item instanceof Experiment ? item.record.created_at : item.created_at)) : result;
    this.#held = held;
    this.#experiments = held.filter((item): item is Experiment => item instanceof Experiment);
    this.#version = read.version;
    this.#index = undefined;
  }
}

function heldFields(record: ExperimentRecord): Omit<HeldRecord, "source" | "start" | "end"> {
  return { slug: record.slug, author: record.author, created_at: record.created_at, last_updated: record.last_updated };
}

/**
 * matchStored for mode "a": which of `mine` (held records, all committed, and this process's
 * experiments) each stored record is, by the same rule: among records of one identity, exact text
 * first (what each last saw, or sent for one not known to be committed), then the remaining
 * committed ones in order. Nothing takes two records.
 */
function matchHeld(records: readonly HeldRecord[], mine: ReadonlyArray<HeldRecord | Experiment>): Array<HeldRecord | Experiment | undefined> {
  const keyOf = (item: HeldRecord | Experiment) => (item instanceof Experiment ? identityKey(item.record) : `${item.slug}\u0000${item.author}`);
  const byKey = new Map<string, Array<HeldRecord | Experiment>>();
  for (const item of mine) {
    const key = keyOf(item);
    const list = byKey.get(key);
    if (list) list.push(item);
    else byKey.set(key, [item]);
  }
  const storedByKey = new Map<string, number[]>();
  records.forEach((r, i) => {
    const key = keyOf(r);
    const list = storedByKey.get(key);
    if (list) list.push(i);
    else storedByKey.set(key, [i]);
  });
  const owners: Array<HeldRecord | Experiment | undefined> = new Array(records.length);
  for (const [key, indexes] of storedByKey) {
    const own = byKey.get(key);
    if (!own) continue;
    const committed = own.filter((item) => !(item instanceof Experiment) || item.committed);
    const sent = own.filter((item): item is Experiment => item instanceof Experiment && !item.committed && sentText.has(item));
    if (indexes.length === 1 && committed.length === 1 && sent.length === 0) {
      owners[indexes[0] as number] = committed[0];
      continue;
    }
    const free = new Set(indexes);
    const taken = new Set<HeldRecord | Experiment>();
    const exact = (item: HeldRecord | Experiment, text: HeldRecord | string | undefined) => {
      if (text === undefined) return;
      const k = indexes.find((i) => free.has(i) && sameText(records[i] as HeldRecord, text));
      if (k === undefined) return;
      owners[k] = item;
      free.delete(k);
      taken.add(item);
    };
    for (const item of committed) exact(item, item instanceof Experiment ? seenText.get(item) : item);
    for (const e of sent) exact(e, sentText.get(e));
    const rest = committed.filter((item) => !taken.has(item));
    const left = indexes.filter((i) => free.has(i));
    for (let j = 0; j < Math.min(rest.length, left.length); j++) owners[left[j] as number] = rest[j];
  }
  return owners;
}

/** The spellings a string may have in a project file (Python escapes non-ASCII; other writers may not). */
function tagSpellings(tag: string): string[] {
  const ascii = pyString(tag);
  const plain = JSON.stringify(tag);
  return ascii === plain ? [ascii] : [ascii, plain];
}

/** What `save()` found. */
export interface SaveResult {
  /**
   * Slugs of experiments this process had seen committed that were gone from the index when the
   * save re-read it (a writer that does not merge, such as Python lazyscribe, rewrote the file).
   * The save wrote them back; a warning (LabbookWarning, code LABBOOK_LOST_EXPERIMENTS) says so too.
   */
  lost: string[];
}

/** One experiment in the index: lazyscribe's 4-space indent with sorted keys, one level in. */
const RECORD_LAYOUT = { indent: 4, sortKeys: true, level: 1 } as const;
/** A value of one of its top-level keys, two levels in. */
const FIELD_LAYOUT = { indent: 4, sortKeys: true, level: 2 } as const;
const ARTIFACTS_HOLE = '\n        "artifacts": []';
const TESTS_HOLE = '\n        "tests": []';

/**
 * An experiment's text as save() builds it for its check, before the artifact files are written,
 * with two holes: writing the files fills in the size, sha256 and fname of their entries, so
 * `artifacts` and `tests` (small) are written into the holes at commit, and the rest (metrics,
 * parameters: the bulk) is built once. Current while `record` and `edits` are the experiment's.
 */
interface Draft {
  readonly record: ExperimentRecord;
  readonly edits: number;
  readonly head: string;
  readonly middle: string;
  readonly tail: string;
}

function draftOf(e: Experiment): Draft | undefined {
  const record = e.record;
  if (!Array.isArray(record.artifacts) || !Array.isArray(record.tests)) return undefined;
  // A copy would lose the recorded spelling of a top-level number (1.0): such a record is built whole.
  for (const value of Object.values(record)) if (typeof value === "number") return undefined;
  const text = stringifyPyJson({ ...record, artifacts: [], tests: [] }, RECORD_LAYOUT);
  // A raw newline is only ever layout (strings escape theirs), and one level in only top-level keys have 8 spaces.
  const a = text.indexOf(ARTIFACTS_HOLE);
  const t = text.indexOf(TESTS_HOLE);
  if (a < 0 || t < a) return undefined;
  const afterA = a + ARTIFACTS_HOLE.length;
  const afterT = t + TESTS_HOLE.length;
  return { record, edits: e.edits, head: text.slice(0, afterA - 2), middle: text.slice(afterA, afterT - 2), tail: text.slice(afterT) };
}

function fillDraft(draft: Draft): string {
  return draft.head + stringifyPyJson(draft.record.artifacts, FIELD_LAYOUT) + draft.middle + stringifyPyJson(draft.record.tests, FIELD_LAYOUT) + draft.tail;
}

function joinParts(parts: readonly string[]): string {
  return parts.length === 0 ? "[]" : `[\n    ${parts.join(",\n    ")}\n]`;
}

/** `text` is exactly one JSON object or array, as the scanner sees it. */
function isOneValue(text: string): boolean {
  const spans = arrayElementSpans(`[${text}]`);
  return spans?.length === 1 && spans[0]?.[0] === 1 && spans[0][1] === text.length + 1;
}

/**
 * Refuse to spread a stored entry that logging would have refused: a slug that is not one safe
 * folder name, an artifact file name that leaves its folder or is kept by storages. The error keeps
 * its code (UNSAFE_PATH, ARTIFACT_LOG) and names the project and the experiment.
 */
function assertMergeable(record: ExperimentRecord, path: string): void {
  try {
    assertSafeRelativePath(record.slug, "experiment slug");
    if (record.slug.includes("/")) throw new LabbookError("UNSAFE_PATH", `Unsafe experiment slug ${JSON.stringify(record.slug)}: a slug is one folder name.`);
    for (const a of record.artifacts) assertLoggableFname(a.fname);
    for (const t of record.tests) for (const a of t.artifacts ?? []) assertLoggableFname(a.fname);
  } catch (cause) {
    if (!isLabbookError(cause)) throw cause;
    throw new LabbookError(
      cause.code,
      `Cannot merge experiment ${JSON.stringify(record.slug)} of ${path}: ${cause.message} Fix that entry in ${path} first; nothing was merged.`,
      { path, cause },
    );
  }
}

/**
 * Within one project's writers, copies of one experiment share slug and author (an edit changes
 * last_updated_by, never author): a same-slug record by another author is another experiment.
 */
function identityKey(record: ExperimentRecord): string {
  return `${record.slug}\u0000${record.author}`;
}

/**
 * Which of `mine` each stored record is (undefined: another writer's). Slugs are not unique (two
 * writers may log one name in the same second, as lazyscribe allows), so among records sharing a
 * slug: first the one whose text is exactly what an experiment last saw (or sent, for one not known
 * to be committed); then the remaining committed experiments, in file order, take the remaining
 * records (edited by someone else since). An experiment never takes two records, so nothing multiplies.
 */
function matchStored(records: readonly ExperimentRecord[], texts: readonly string[] | undefined, mine: readonly Experiment[]): Array<Experiment | undefined> {
  const bySlug = new Map<string, Experiment[]>();
  for (const e of mine) {
    const list = bySlug.get(identityKey(e.record));
    if (list) list.push(e);
    else bySlug.set(identityKey(e.record), [e]);
  }
  const storedBySlug = new Map<string, number[]>();
  records.forEach((r, i) => {
    const list = storedBySlug.get(identityKey(r));
    if (list) list.push(i);
    else storedBySlug.set(identityKey(r), [i]);
  });
  const owners: Array<Experiment | undefined> = new Array(records.length);
  for (const [key, indexes] of storedBySlug) {
    const own = bySlug.get(key);
    if (!own) continue;
    const committed = own.filter((e) => e.committed);
    const sent = own.filter((e) => !e.committed && sentText.has(e));
    if (indexes.length === 1 && committed.length === 1 && sent.length === 0) {
      owners[indexes[0] as number] = committed[0];
      continue;
    }
    const free = new Set(indexes);
    const taken = new Set<Experiment>();
    const exact = (e: Experiment, text: string | undefined) => {
      if (text === undefined || texts === undefined) return;
      const k = indexes.find((i) => free.has(i) && texts[i] === text);
      if (k === undefined) return;
      owners[k] = e;
      free.delete(k);
      taken.add(e);
    };
    for (const e of committed) exact(e, seenText.get(e));
    for (const e of sent) exact(e, sentText.get(e));
    const rest = committed.filter((e) => !taken.has(e));
    const left = indexes.filter((i) => free.has(i));
    for (let j = 0; j < Math.min(rest.length, left.length); j++) owners[left[j] as number] = rest[j];
  }
  return owners;
}
