import { userInfo } from "node:os";
import { defaultHandlers } from "./artifacts/builtins.js";
import type { ArtifactOrigin } from "./artifacts/collection.js";
import type { HandlerRegistry } from "./artifacts/handler.js";
import { commitIndex } from "./commit.js";
import { utcNow } from "./dates.js";
import { type DependencyReference, type DependencyResolver, parseDependency, resolveRelativeKey } from "./dependency.js";
import { isLabbookError, LabbookError } from "./errors.js";
import { Experiment, type ExperimentContext } from "./experiment.js";
import { mergeAllRecords, mergeExperimentRecords, sortByCreated } from "./merge.js";
import { forEachLimit } from "./parallel.js";
import { cloneJson, parsePyJson, stringifyPyJson } from "./pyjson.js";
import { type ArtifactEntry, type ExperimentRecord, experimentRecordSchema, projectFileSchema } from "./schemas.js";
import { dirnameKey, type Storage } from "./storage.js";
import { validateFile } from "./validate.js";

/** How many experiments write their artifact files at once during save(). */
const ARTIFACT_WRITE_CONCURRENCY = 16;

/** lazyscribe's project modes. */
export const PROJECT_MODES = ["r", "a", "w", "w+"] as const;
export type ProjectMode = (typeof PROJECT_MODES)[number];

export interface ProjectOptions {
  /** Where the bytes live. The umbrella's `openProject` picks one from the location for you. */
  storage: Storage;
  /** "r" read-only, "a" append (default), "w" start empty, "w+" edit everything. */
  mode?: ProjectMode;
  /** Who logs; defaults to the OS user name, as lazyscribe does. */
  author?: string;
  /** Artifact handlers; defaults to the built-ins. */
  handlers?: HandlerRegistry;
  /** Time source for created_at/last_updated (default: now, whole seconds). For reproducible files and tests. */
  clock?: () => Date;
  /** How many times save() re-reads and retries when another writer got in first (default 8). */
  maxRetries?: number;
  /**
   * The largest project file (bytes) that is read or written (default 256 MiB). A bigger file is
   * refused with INVALID_FORMAT before it is read, and a save that would write one fails with
   * SAVE_FAILED, instead of running out of memory: JavaScript strings stop at about 512 MiB.
   */
  maxIndexBytes?: number;
  /**
   * Where dependencies on other projects are looked up (a `Registry` from @labbook/registry).
   * Without one, only path references inside this project's storage resolve.
   */
  registry?: DependencyResolver;
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

const decoder = new TextDecoder();

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

/** In lazyscribe's layout each experiment sits between "\n    {" and "\n    }" (nested lines are deeper). */
function rememberTexts(text: string, records: readonly ExperimentRecord[]): void {
  if (records.length === 0 || !text.startsWith("[\n    {") || !text.endsWith("\n    }\n]")) return;
  const parts = text.slice(6, -2).split("\n    },\n    {");
  if (parts.length !== records.length) return;
  const last = parts.length - 1;
  parts.forEach((part, i) => {
    storedText.set(records[i] as ExperimentRecord, `${i > 0 ? "{" : ""}${part}${i < last ? "\n    }" : ""}`);
  });
}

function sameRecord(a: ExperimentRecord, b: ExperimentRecord): boolean {
  return stringifyPyJson(a, { sortKeys: true }) === stringifyPyJson(b, { sortKeys: true });
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
  #index: { bySlug: Map<string, Experiment>; byShort: Map<string, Experiment> } | undefined;
  readonly #registry: DependencyResolver | undefined;
  // Upstream projects in this project's own storage (when no registry is given), opened once each.
  readonly #upstreams = new Map<string, Promise<Project | undefined>>();
  readonly #context: ExperimentContext;
  // Experiments appended with a once tag: dropped by a save that finds the tag already stored.
  readonly #once = new WeakMap<Experiment, string>();

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
    return this.#experiments.length;
  }

  get experiments(): readonly Experiment[] {
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

  async #readStored(): Promise<{ records: ExperimentRecord[]; version: string } | undefined> {
    let stored: { data: Uint8Array; version: string };
    try {
      // Refuse an oversized file before reading it, so a huge index fails with a typed error, not an OOM.
      const info = await this.storage.stat(this.location);
      if (info !== undefined) this.#assertIndexSize(info.size);
      stored = await this.storage.readVersioned(this.location);
    } catch (error) {
      if (isLabbookError(error, "NOT_FOUND")) return undefined;
      throw error;
    }
    this.#assertIndexSize(stored.data.byteLength);
    const text = decoder.decode(stored.data);
    const records = validateFile(projectFileSchema, parsePyJson(text, this.path), this.path);
    // Only a project that can save needs the texts.
    if (this.mode !== "r") rememberTexts(text, records);
    return { records, version: stored.version };
  }

  async #load(): Promise<void> {
    const stored = await this.#readStored();
    if (!stored) {
      if (this.mode === "r")
        throw new LabbookError("NOT_FOUND", `No project at ${this.path}; open it in mode "a", "w" or "w+" to create one.`, { path: this.path });
      return;
    }
    const frozen = this.mode === "r" || this.mode === "a";
    this.#experiments = stored.records.map((r) => new Experiment(r, this.#context, { frozen, dirty: false }));
    this.#version = stored.version;
    this.#index = undefined;
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
    const valid = validateFile(experimentRecordSchema, record, `an experiment record appended to ${this.path}`);
    const once = options.once;
    if (once !== undefined) {
      if (!valid.tags.includes(once)) throw new LabbookError("INVALID_ARGUMENT", `appendRecord: the record's tags must include its once tag "${once}".`);
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
    this.#index = undefined;
  }

  #lookup() {
    if (!this.#index) {
      const bySlug = new Map<string, Experiment>();
      const byShort = new Map<string, Experiment>();
      for (const e of this.#experiments) {
        bySlug.set(e.slug, e);
        const prev = byShort.get(e.shortSlug);
        if (!prev || prev.record.created_at <= e.record.created_at) byShort.set(e.shortSlug, e);
      }
      this.#index = { bySlug, byShort };
    }
    return this.#index;
  }

  /** An experiment by slug, or by short slug (the latest by created_at wins). NOT_FOUND otherwise. */
  get(slugOrShortSlug: string): Experiment {
    const found = this.find(slugOrShortSlug);
    if (!found) throw new LabbookError("NOT_FOUND", `No experiment "${slugOrShortSlug}" in ${this.path}.`, { path: this.path });
    return found;
  }

  /** Like get(), but undefined when there is none. */
  find(slugOrShortSlug: string): Experiment | undefined {
    const { bySlug, byShort } = this.#lookup();
    return bySlug.get(slugOrShortSlug) ?? byShort.get(slugOrShortSlug);
  }

  has(slugOrShortSlug: string): boolean {
    return this.find(slugOrShortSlug) !== undefined;
  }

  [Symbol.iterator](): Iterator<Experiment> {
    return this.#experiments[Symbol.iterator]();
  }

  filter(predicate: (experiment: Experiment) => boolean): Experiment[] {
    return this.#experiments.filter(predicate);
  }

  /**
   * A new project (same location, mode "w+") holding editable copies of the experiments of this and
   * `others`; changing a copy never changes the projects merged.
   * Same slug: the later `last_updated` wins; on a tie the copy whose canonical JSON sorts last wins,
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
    // All copies of a slug are merged at once, and ties in created_at are ordered by slug, so the
    // result does not depend on the order of the projects.
    const bySlug = new Map<string, Experiment[]>();
    for (const project of [this, ...others]) {
      for (const e of project) bySlug.set(e.slug, [...(bySlug.get(e.slug) ?? []), e]);
    }
    const result: Experiment[] = [];
    for (const slug of [...bySlug.keys()].sort()) {
      const copies = bySlug.get(slug) ?? [];
      const record = mergeAllRecords(copies.map((e) => e.record));
      const origins = new Map<ArtifactEntry, ArtifactOrigin>();
      for (const e of copies) e.collectOrigins(origins);
      const whole = copies.find((e) => e.record === record);
      // A copy that won whole keeps its state (saving does not make the saver its last_updated_by);
      // a mixed record is a change. Stored copies of the slug are merged with it, never duplicated.
      const copy = Experiment.copyOf(record, merged.#context, origins, whole?.dirty ?? true);
      copy.committed = copies.some((e) => e.committed);
      result.push(copy);
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
    if (this.#experiments.length === 0) return "[]";
    const parts = this.#experiments.map((e) => {
      const kept = e.dirty || e.hasDirtyArtifacts() ? undefined : storedText.get(e.record);
      if (kept !== undefined) return kept;
      const text = stringifyPyJson(e.record, { indent: 4, sortKeys: true, level: 1 });
      storedText.set(e.record, text);
      return text;
    });
    return `[\n    ${parts.join(",\n    ")}\n]`;
  }

  /**
   * Write what changed: new artifact files first, then the index, so the index never names a
   * missing file. The index is committed with a conditional write against the version that was
   * read; if another writer got in first, their experiments are merged in and the write retried.
   * On failure (SAVE_FAILED, CONFLICT after retries) the stored index is left as it was.
   */
  async save(): Promise<void> {
    this.#assertWritable("save");
    // Merged-in files are copied only by the experiment's own project (one appended from elsewhere keeps its location).
    const changed = this.#experiments.filter((e) => e.dirty || e.hasDirtyArtifacts(e.owner === this));
    if (changed.length === 0 && this.#version !== undefined) return;
    // Check every changed experiment serialises before anything is written.
    for (const e of changed) {
      try {
        const size = stringifyPyJson(e.record).length;
        if (size > this.#maxIndexBytes)
          throw new Error(`it is ${size} bytes as JSON, over the ${this.#maxIndexBytes}-byte limit (option maxIndexBytes); log large values as artifacts`);
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
    if (this.mode === "w+") for (const e of changed) if (e.dirty) e.record.last_updated_by = this.author;
    // Artifact files go out several at a time, so local fsyncs and S3 round trips overlap instead of queueing.
    await forEachLimit(changed, ARTIFACT_WRITE_CONCURRENCY, (e) => e.saveArtifacts(e.owner === this));
    await this.#commitIndex();
    for (const e of changed) e.markClean();
  }

  async #commitIndex(): Promise<void> {
    this.#version = await commitIndex({
      storage: this.storage,
      key: this.location,
      conditional: this.storage.capabilities.conditionalWrites && this.mode !== "w",
      maxRetries: this.#maxRetries,
      catchUp: () => this.#catchUp(),
      version: () => this.#version,
      serialize: () => {
        // The file is ASCII (non-ASCII is escaped), so length is its size in bytes.
        const text = this.serialize();
        if (text.length > this.#maxIndexBytes)
          throw new Error(`it would be ${text.length} bytes, over the ${this.#maxIndexBytes}-byte limit (option maxIndexBytes)`);
        return text;
      },
    });
  }

  /** Merge in whatever other writers committed since we last read the index. */
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
    const frozen = this.mode === "a";
    // Several experiments may share a slug (same name, same second): keep all of ours for each slug.
    const mine = new Map<string, Experiment[]>();
    for (const e of this.#experiments) {
      const same = mine.get(e.slug);
      if (same) same.push(e);
      else mine.set(e.slug, [e]);
    }
    const placed = new Set<Experiment>();
    const result: Experiment[] = [];
    for (const record of stored.records) {
      const candidates = (mine.get(record.slug) ?? []).filter((e) => !placed.has(e));
      // A stored record is one of ours when it is identical to it (a retried commit of a new one),
      // else the first stored one of ours with that slug (stored order keeps same-slug experiments
      // in place); a new experiment of ours that merely shares a slug is a different experiment.
      const only = candidates.length === 1 ? candidates[0] : undefined;
      const own = only?.committed === true ? only : (candidates.find((e) => sameRecord(e.record, record)) ?? candidates.find((e) => e.committed));
      if (!own) {
        result.push(new Experiment(record, this.#context, { frozen, dirty: false }));
        continue;
      }
      own.replaceRecord(mergeExperimentRecords(record, own.record));
      placed.add(own);
      result.push(own);
    }
    let storedTags: Set<string> | undefined;
    const storedOnce = (e: Experiment) => {
      const once = this.#once.get(e);
      if (once === undefined) return false;
      storedTags ??= new Set(stored.records.flatMap((r) => r.tags));
      return storedTags.has(once);
    };
    const added = this.#experiments.filter((e) => !placed.has(e) && !storedOnce(e));
    this.#experiments = added.length > 0 ? sortByCreated([...result, ...added]) : result;
    this.#version = stored.version;
    this.#index = undefined;
  }
}
