import { ArtifactCollection, type ArtifactContext, type ArtifactOrigin, createSlot, type LogArtifactOptions, splitLogOptions } from "./artifacts/collection.js";
import { formatCompact, formatDate, parseDate, utcNow } from "./dates.js";
import { formatDependency, type ReferencingProject, referenceTo } from "./dependency.js";
import { LabbookError } from "./errors.js";
import { checkStep, type LogMetricOptions, MetricHistory, type MetricHistoryFile, type MetricPoint } from "./metric-history.js";
import { cloneJson } from "./pyjson.js";
import type { ReadonlyExperimentRecord } from "./readonly.js";
import type { ArtifactEntry, ExperimentRecord, TestRecord } from "./schemas.js";
import { slugify } from "./slug.js";
import { joinKey } from "./storage.js";
import { assertMetric, Test, type TestHost } from "./test-record.js";

/**
 * What an experiment uses of the project it belongs to: where the project is, its resolver (for the
 * keys of dependencies) and the resolution of dependencies. A `Project` is one.
 */
export interface ExperimentOwner extends ReferencingProject {
  /** The experiments `experiment` depends on, keyed by their short slug. */
  dependenciesOf(experiment: Experiment): Promise<Map<string, Experiment>>;
}

/** What an experiment needs from its project. */
export interface ExperimentContext extends ArtifactContext {
  /** The project folder key ("" for the storage root). */
  readonly dir: string;
  /** The time source (whole UTC seconds); injectable for reproducible files. */
  readonly clock: () => Date;
  /** The project the experiment belongs to, for dependencies. */
  readonly project?: ExperimentOwner;
}

export interface AddDependencyOptions {
  /** Record this registry key (or project path) instead of the one labbook works out. */
  key?: string | undefined;
}

export interface TagOptions {
  /** Replace the tags instead of adding to them. */
  overwrite?: boolean | undefined;
}

export interface LogTestOptions {
  description?: string | null | undefined;
}

/**
 * One run: metrics, parameters, tags, tests and artifacts. Get one from `project.log(...)`, or from
 * a loaded project. Loaded experiments are frozen unless the project was opened in mode "w+".
 */
export class Experiment {
  /** @internal The stored record, kept as parsed so unknown fields and number spellings survive. */
  record: ExperimentRecord;
  /** @internal */
  artifactSet: ArtifactCollection;
  /** @internal */
  dirty: boolean;
  /** @internal Changed only through its existing tests since it was last clean (its last_updated_by stays on save). */
  testsOnly = false;
  /** @internal True once this experiment is known to be in the stored index (loaded or saved). */
  committed: boolean;
  /** @internal Counts changes made through its methods, so a text built from its record can tell it is still current. */
  edits = 0;
  #frozen: boolean;
  #tests: Test[];
  #context: ExperimentContext;
  #history: MetricHistory | undefined;

  /**
   * Not callable: create experiments with `project.log()`. (The real signature is internal and
   * stripped from the published types; without this one they would show a public no-argument constructor.)
   */
  constructor(useProjectLog: never, context: never, options: never);
  /** @internal */
  constructor(record: ExperimentRecord, context: ExperimentContext, options: { frozen: boolean; dirty: boolean });
  constructor(record: ExperimentRecord, context: ExperimentContext, options: { frozen: boolean; dirty: boolean }) {
    this.record = record;
    this.#context = context;
    this.#frozen = options.frozen;
    this.dirty = options.dirty;
    this.committed = !options.dirty;
    this.artifactSet = new ArtifactCollection(record.artifacts, () => this.folder);
    this.#tests = record.tests.map((t) => new Test(t, this.#testHost()));
  }

  /** @internal A new, empty experiment record as lazyscribe creates it. */
  static newRecord(name: string, author: string, createdAt: Date = utcNow()): ExperimentRecord {
    if (typeof name !== "string" || name.trim().length === 0) {
      throw new LabbookError("INVALID_ARGUMENT", "An experiment needs a non-empty name.");
    }
    const created = formatDate(createdAt);
    return {
      artifacts: [],
      author,
      created_at: created,
      dependencies: [],
      last_updated: created,
      last_updated_by: author,
      metrics: {},
      name,
      parameters: {},
      short_slug: slugify(name),
      slug: slugify(`${name}-${formatCompact(createdAt)}`),
      tags: [],
      tests: [],
    };
  }

  #testHost(): TestHost {
    return {
      context: this.#context,
      folder: () => this.folder,
      touch: (what) => this.#touchTest(what),
      label: `experiment "${this.slug}"`,
      now: () => this.#context.clock(),
    };
  }

  /**
   * @internal A copy of `record` (a record of another experiment, or merged from several) that
   * belongs to `context`'s project: an editable deep copy, so changing one never changes the other.
   * Its artifacts are read from where `origins` says they are until the new project saves, which
   * copies them into its own folder (merging moves no file).
   */
  static copyOf(record: ExperimentRecord, context: ExperimentContext, origins: ReadonlyMap<ArtifactEntry, ArtifactOrigin>, dirty: boolean): Experiment {
    const copy = new Experiment(cloneJson(record), context, { frozen: false, dirty });
    copy.artifactSet.adopt(record.artifacts, origins, context.storage);
    for (const [i, test] of copy.#tests.entries()) test.artifactSet.adopt(record.tests[i]?.artifacts ?? [], origins, context.storage);
    return copy;
  }

  /** @internal Where each artifact of this experiment and its tests is now (for copyOf). */
  collectOrigins(into: Map<ArtifactEntry, ArtifactOrigin>): void {
    this.artifactSet.origins(this.#context.storage, into);
    for (const t of this.#tests) t.artifactSet.origins(this.#context.storage, into);
  }

  /** @internal Take a merged record, keeping unsaved artifact values and tests that are still in it. */
  replaceRecord(record: ExperimentRecord): void {
    if (record === this.record) return;
    this.edits++;
    const slots = new Map(this.artifactSet.slots.map((s) => [s.entry, s] as const));
    const tests = new Map(this.#tests.map((t) => [t.record, t] as const));
    this.record = record;
    this.artifactSet = new ArtifactCollection(record.artifacts, () => this.folder);
    this.artifactSet.slots.forEach((slot, i) => {
      const previous = slots.get(slot.entry);
      if (previous) this.artifactSet.slots[i] = previous;
    });
    this.#tests = record.tests.map((t) => tests.get(t) ?? new Test(t, this.#testHost()));
  }

  get name(): string {
    return this.record.name;
  }
  get slug(): string {
    return this.record.slug;
  }
  get shortSlug(): string {
    return this.record.short_slug;
  }
  get author(): string {
    return this.record.author;
  }
  get lastUpdatedBy(): string {
    return this.record.last_updated_by;
  }
  get createdAt(): Date {
    return parseDate(this.record.created_at, "created_at");
  }
  get lastUpdated(): Date {
    return parseDate(this.record.last_updated, "last_updated");
  }
  get metrics(): Readonly<Record<string, number>> {
    return this.record.metrics;
  }
  get parameters(): Readonly<Record<string, unknown>> {
    return this.record.parameters;
  }
  get tags(): readonly string[] {
    return this.record.tags;
  }
  get tests(): readonly Test[] {
    return this.#tests;
  }
  /** Dependencies as stored: `"<registry key or project path>|<upstream slug>"`. */
  get dependencies(): readonly string[] {
    return this.record.dependencies;
  }
  get artifacts(): ReadonlyArray<Readonly<ArtifactEntry>> {
    return this.record.artifacts;
  }
  /** The project this experiment belongs to (undefined for an experiment made outside one). */
  get owner(): ExperimentOwner | undefined {
    return this.#context.project;
  }
  /** True when the experiment cannot be changed (loaded in mode "a" or "r"). */
  get frozen(): boolean {
    return this.#frozen;
  }
  /** The folder key holding this experiment's artifacts. */
  get folder(): string {
    return joinKey(this.#context.dir, this.slug);
  }
  /** Where the artifact folder is, for people. */
  get location(): string {
    return this.#context.storage.describe(this.folder);
  }

  #assertEditable(what: string): void {
    if (this.#frozen) {
      throw new LabbookError(
        "READ_ONLY",
        `Cannot ${what}: experiment "${this.slug}" is read-only (projects opened in mode "a" freeze loaded experiments, mode "r" freezes everything; open in "w+" to edit).`,
      );
    }
  }

  // The last time touch() wrote into last_updated, and the text it wrote: a run of logMetric and
  // logParameter calls within one second formats the date once, not once per call.
  #touchedMs = Number.NaN;
  #touchedText: string | undefined;

  /** @internal */
  touch(what: string): void {
    this.#assertEditable(what);
    this.edits++;
    const now = this.#context.clock();
    const ms = now.getTime();
    // Formatted again when the second changed or someone else (a merge, a user) set the field since.
    if (ms !== this.#touchedMs || this.record.last_updated !== this.#touchedText) {
      this.#touchedText = formatDate(now);
      this.#touchedMs = ms;
      this.record.last_updated = this.#touchedText;
    }
    this.dirty = true;
    this.testsOnly = false;
  }

  /** A change to one of its tests: saved, but, as in lazyscribe, last_updated and last_updated_by stay. */
  #touchTest(what: string): void {
    this.#assertEditable(what);
    this.edits++;
    if (!this.dirty) this.testsOnly = true;
    this.dirty = true;
  }

  /**
   * Log a metric: `metrics[name]` keeps the latest value; with `{ step }` the value also joins the
   * metric's history (see metricHistory).
   * @example for (const [step, loss] of losses.entries()) exp.logMetric("loss", loss, { step })
   */
  logMetric(name: string, value: number, options: LogMetricOptions = {}): void {
    this.touch("logMetric");
    assertMetric(name, value);
    const at = checkStep(name, options);
    this.record.metrics[name] = value;
    if (at) this.#metricHistory().append(name, value, at.step, at.time);
  }

  #metricHistory(): MetricHistory {
    this.#history ??= new MetricHistory({
      context: this.#context,
      artifacts: () => this.artifactSet,
      setEntries: (entries) => {
        this.record.artifacts = entries;
      },
      label: `experiment "${this.slug}"`,
      now: () => this.#context.clock(),
    });
    return this.#history;
  }

  /** The values of `name` logged with a step, oldest first; empty when it has none (its artifact is read now). */
  metricHistory(name: string): Promise<MetricPoint[]> {
    return this.#metricHistory().series(name);
  }

  /** Every metric history of this experiment, columnar, as its `metric-history` artifact stores them. */
  async metricHistories(): Promise<MetricHistoryFile["metrics"]> {
    return (await this.#metricHistory().all()).metrics;
  }

  logParameter(name: string, value: unknown): void {
    this.touch("logParameter");
    if (typeof name !== "string" || name.length === 0) throw new LabbookError("INVALID_ARGUMENT", "A parameter needs a non-empty name.");
    this.record.parameters[name] = value;
  }

  /**
   * Add tags (or replace them with `{ overwrite: true }` as the last argument).
   * @example exp.tag("baseline", "gpu"); exp.tag("final", { overwrite: true })
   */
  tag(...args: Array<string | TagOptions>): void {
    this.touch("tag");
    const last = args.at(-1);
    const options = typeof last === "object" && last !== null ? (args.pop() as TagOptions) : {};
    for (const t of args) {
      if (typeof t !== "string") throw new LabbookError("INVALID_ARGUMENT", `Tags are strings, not ${typeof t}.`);
    }
    const tags = args as string[];
    this.record.tags = options.overwrite ? [...tags] : [...this.record.tags, ...tags];
  }

  /**
   * Log an artifact, written by its handler on the next save.
   * @example exp.logArtifact("features", { cols: ["a", "b"] }, { handler: "json" })
   */
  logArtifact(name: string, value: unknown, options: LogArtifactOptions): void {
    this.touch("logArtifact");
    const { handler, fname, overwrite, writerOptions } = splitLogOptions(options);
    const createdAt = parseDate(this.record.last_updated);
    const slot = createSlot(this.#context.handlers.forLog(handler, name), name, value, createdAt, { fname, writerOptions });
    this.record.artifacts = this.artifactSet.add(slot, overwrite, `Experiment "${this.slug}"`);
  }

  /** Read an artifact's value. Nothing is read when the project opens; this reads it now. */
  loadArtifact<T = unknown>(name: string): Promise<T> {
    return this.artifactSet.load(this.#context, name, `Experiment "${this.slug}"`) as Promise<T>;
  }

  /** The stored bytes of an artifact as a stream, checked against its sha256 at the end. */
  openArtifactStream(name: string): Promise<AsyncIterable<Uint8Array>> {
    return this.artifactSet.openStream(this.#context, name, `Experiment "${this.slug}"`);
  }

  /**
   * Log a test: it joins the experiment only if `fn` finishes; if `fn` throws, nothing is added
   * and the error reaches you.
   */
  async logTest<T = void>(name: string, options: LogTestOptions, fn: (test: Test) => T | Promise<T>): Promise<Test> {
    if (this.#frozen) this.touch("logTest");
    if (typeof name !== "string" || name.trim().length === 0) throw new LabbookError("INVALID_ARGUMENT", "A test needs a non-empty name.");
    const record: TestRecord = { artifacts: [], description: options.description ?? null, metrics: {}, name, parameters: {} };
    const test = new Test(record, this.#testHost());
    await fn(test);
    this.touch("logTest");
    this.record.tests = [...this.record.tests, record];
    this.#tests.push(test);
    return test;
  }

  /** @internal Artifacts (of the experiment and its tests) waiting to be written; `withCopies`: merged-in files to copy count too. */
  hasDirtyArtifacts(withCopies = true): boolean {
    const pending = (set: ArtifactCollection) => (withCopies ? set.pendingSlots() : set.dirtySlots()).length > 0;
    return pending(this.artifactSet) || this.#tests.some((t) => pending(t.artifactSet));
  }

  /** @internal `copyIn`: also copy merged-in files into this experiment's folder (only its own project does). */
  async saveArtifacts(copyIn = true): Promise<void> {
    await this.#history?.prepareSave();
    for (const t of this.#tests) await t.prepareHistory();
    await this.artifactSet.saveDirty(this.#context, copyIn);
    for (const t of this.#tests) await t.artifactSet.saveDirty(this.#context, copyIn);
  }

  /** @internal */
  markClean(): void {
    this.dirty = false;
    this.testsOnly = false;
    this.committed = true;
    this.artifactSet.markClean();
    for (const t of this.#tests) t.artifactSet.markClean();
  }

  /**
   * Record that this experiment depends on `upstream`, as lazyscribe does:
   * `"<registry key or project path>|<upstream slug>"`. The key is the upstream project's registry
   * key when the project's registry knows it, a path relative to this project when both share a
   * storage, and the upstream project's location otherwise. Returns the stored string.
   * @example await project.log("train", async (exp) => { exp.addDependency(features.get("build")) })
   */
  addDependency(upstream: Experiment, options: AddDependencyOptions = {}): string {
    const reference = formatDependency(options.key ?? referenceTo(this.#context.project, upstream), upstream.slug);
    if (this.record.dependencies.includes(reference)) return reference;
    this.touch("addDependency");
    this.record.dependencies = [...this.record.dependencies, reference];
    return reference;
  }

  /**
   * The upstream experiments, keyed by their short slug. Upstream projects are opened now (not
   * when this project was opened), once each. MISSING_DEPENDENCY when one cannot be found.
   */
  resolveDependencies(): Promise<Map<string, Experiment>> {
    const project = this.#context.project;
    if (!project) {
      return Promise.reject(new LabbookError("UNSUPPORTED", `Experiment "${this.slug}" belongs to no project, so its dependencies cannot be resolved.`));
    }
    return project.dependenciesOf(this);
  }

  /**
   * The stored record as it is now (lazyscribe's field names), read-only: for tables, filters and
   * exports. It is the live record, not a copy; change the experiment through its methods.
   */
  toRecord(): ReadonlyExperimentRecord {
    return this.record;
  }

  /** Plain data for tables and exports (the same record as toRecord). */
  toJSON(): ReadonlyExperimentRecord {
    return this.record;
  }
}

/** The artifacts of `experiment` (without its tests'), for labbook's own packages through `@labbook/core/internal`. */
export function experimentArtifacts(experiment: Experiment): ArtifactCollection {
  return experiment.artifactSet;
}
