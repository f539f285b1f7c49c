import { isLabbookError, LabbookError } from "@labbook/core";
import type { ZodType } from "zod";
import type { Cache, CacheMetadata } from "./cache.js";
import type { Cacher } from "./cacher.js";
import { canonicalParameters, parameterHash, sha256 } from "./hash.js";
import type { ReportItem } from "./report-items.js";
import type { AggregateInput, StageSpec } from "./stage-spec.js";
import { summarize } from "./summary.js";

/** What one stage did for one record. */
export interface StageRun {
  readonly stage: string;
  readonly kind: "stage" | "aggregate";
  /** The hash its outputs are cached under. */
  readonly hash: string;
  readonly inputs: readonly string[];
  readonly outputs: ReadonlyArray<{ name: string; key: string | null; summary: string }>;
  /** cached: skipped, every output was in the cache; computed: ran and cached; uncached: ran, has no cachers. */
  status: "cached" | "computed" | "uncached" | "failed";
  durationMs: number;
}

/** Provenance written into every `_metadata.json`. */
export interface Provenance {
  readonly labbookVersion: string;
  readonly gitCommit: string | null;
  readonly gitDirty: boolean | null;
}

/** Progress events for whoever shows them (the runner prints one line or bar per stage). */
export type StageEvent = { type: "stage-start" | "stage-end"; record: string; stage: string; status?: StageRun["status"]; durationMs?: number };

/** What every record of one run shares. */
export interface RunContext {
  readonly cache: Cache;
  readonly overwrite?: boolean | undefined;
  readonly overwriteStages?: ReadonlySet<string> | undefined;
  readonly provenance: Provenance;
  readonly schema?: ZodType | undefined;
  readonly onEvent?: ((event: StageEvent) => void) | undefined;
}

/** A stage as a record runs it: stage.ts's `Stage`, whatever its value types (its `AnyStage`). */
// biome-ignore lint/suspicious/noExplicitAny: stages of any value and parameter types.
type RunnableStage = StageSpec & { readonly kind: "stage"; readonly run: (inputs: any, record: PipelineRecord<any>) => any };

/** An aggregate as a record runs it: stage.ts's `AggregateStage`, whatever its value types. */
type RunnableAggregate = StageSpec & {
  readonly kind: "aggregate";
  // biome-ignore lint/suspicious/noExplicitAny: aggregates of any value and parameter types.
  readonly run: (records: ReadonlyArray<AggregateInput<any, any>>, record: PipelineRecord<any>) => any;
};

/** A state value: loaded, or still in the cache. `hash` is the hash it was made (and cached) under. */
type Slot =
  | { loaded: true; value: unknown; stage: string; key: string | null; hash: string }
  | { loaded: false; load: () => Promise<unknown>; stage: string; key: string; hash: string };

/**
 * The state passed through the stages for one parameter set: values by name (cached ones loaded only
 * when a running stage needs them), the stages it went through, metrics and report items.
 */
export class PipelineRecord<P = Record<string, unknown>> {
  readonly name: string;
  readonly params: P;
  /** The active hash: of the parameters, or for an aggregate record combined with its inputs'. */
  hash: string;
  readonly context: RunContext;
  readonly stages: StageRun[] = [];
  readonly reports: Array<ReportItem & { stage: string | null }> = [];
  readonly metrics: Record<string, number> = {};
  /** Keys handed out by getPath/getDir (copied by store-full runs). */
  readonly tracked: string[] = [];
  #state = new Map<string, Slot>();
  #current: string | undefined;
  #currentHash: string | undefined;

  constructor(params: P & { name?: string | undefined }, context: RunContext, hash?: string) {
    this.name = params.name ?? "default";
    this.params = params;
    this.context = context;
    this.hash = hash ?? parameterHash(params as Record<string, unknown>, context.schema);
  }

  get cache(): Cache {
    return this.context.cache;
  }

  /** Names in the state. */
  keys(): string[] {
    return [...this.#state.keys()];
  }

  has(name: string): boolean {
    return this.#state.has(name);
  }

  /** True when `name` is in the state and was not read from the cache (yet). */
  isLoaded(name: string): boolean {
    return this.#state.get(name)?.loaded === true;
  }

  /** A value of the state, read from the cache the first time it is needed. */
  async get<T = unknown>(name: string): Promise<T> {
    const slot = this.#state.get(name);
    if (!slot) throw new LabbookError("NOT_FOUND", `Record "${this.name}" has no "${name}" in its state (it has: ${this.keys().join(", ") || "nothing"}).`);
    if (!slot.loaded) {
      const value = await slot.load();
      this.#state.set(name, { loaded: true, value, stage: slot.stage, key: slot.key, hash: slot.hash });
      return value as T;
    }
    return slot.value as T;
  }

  /** Put a value into the state (what a stage's outputs do). */
  set(name: string, value: unknown, stage = "(set)", key: string | null = null, hash: string = this.hash): void {
    this.#state.set(name, { loaded: true, value, stage, key, hash });
  }

  /** @internal Put a cached value into the state without reading it. */
  setLazy(name: string, stage: string, key: string, load: () => Promise<unknown>, hash: string = this.hash): void {
    this.#state.set(name, { loaded: false, load, stage, key, hash });
  }

  /** @internal Where a state value is cached, if it is. */
  keyOf(name: string): string | null {
    return this.#state.get(name)?.key ?? null;
  }

  /** @internal The hash a state value was made under (the record's hash for values set by hand). */
  hashOf(name: string): string {
    return this.#state.get(name)?.hash ?? this.hash;
  }

  /**
   * The hash `stage` caches under for this record: the record's hash, or for a stage that declares
   * `uses`, sha256 of the canonical JSON of those parameters and of its inputs' hashes.
   */
  stageHash(stage: StageSpec, inputHashes?: ReadonlyMap<string, string>): string {
    if (stage.kind === "aggregate" || stage.uses === undefined) return this.hash;
    const params = this.params as Record<string, unknown>;
    const used = Object.fromEntries(stage.uses.map((k) => [k, params[k]]));
    const inputs = stage.inputs.map((name) => [name, inputHashes?.get(name) ?? this.hashOf(name)]);
    return sha256(`${canonicalParameters(used, this.context.schema)}\n${JSON.stringify(inputs)}`);
  }

  /**
   * A cache key for a file the running stage writes itself, specific to these parameters
   * (`<cache dir>/<prefix>_<hash>_<stage>_<name>`). Write it with `record.cache.storage`.
   */
  getPath(name: string): string {
    const key = this.cache.base(this.#currentHash ?? this.hash, this.#current ?? "record", name);
    this.tracked.push(key);
    return key;
  }

  /** Like getPath, for a folder of files (`<key>/...`). */
  getDir(name: string): string {
    const key = `${this.cache.base(this.#currentHash ?? this.hash, this.#current ?? "record", name)}.d`;
    this.tracked.push(`${key}/`);
    return key;
  }

  /** Add something to the run report (text, a table, a line or bar chart). */
  report(item: ReportItem): void {
    this.reports.push({ ...item, stage: this.#current ?? null });
  }

  /** A metric of this record (a test of the run's experiment) . */
  logMetric(name: string, value: number): void {
    this.metrics[name] = value;
  }

  /**
   * Fork this record: the copy shares the state and stage history so far (an expensive common prefix
   * runs once) and goes on with other parameters, so later stages cache under the new hash.
   */
  makeCopy<Q = P>(params?: Q & { name?: string | undefined }): PipelineRecord<Q> {
    const copy = new PipelineRecord<Q>((params ?? this.params) as Q & { name?: string }, this.context);
    for (const [k, v] of this.#state) copy.#state.set(k, v);
    copy.stages.push(...this.stages.map((s) => ({ ...s })));
    copy.tracked.push(...this.tracked);
    return copy;
  }

  #overwriting(stage: string): boolean {
    return this.context.overwrite === true || this.context.overwriteStages?.has(stage) === true;
  }

  #metadata(stage: StageSpec, hash: string, output: string, cacher: Cacher, file: string, inputs?: readonly string[]): CacheMetadata {
    const p = this.context.provenance;
    const params = (this.params ?? {}) as Record<string, unknown>;
    // A stage that declares `uses` is determined by those parameters (and its inputs) only.
    const shown = stage.uses === undefined ? params : Object.fromEntries(stage.uses.map((k) => [k, params[k]]));
    return {
      parameters: JSON.parse(JSON.stringify(shown)),
      hash,
      stage: stage.name,
      output,
      record: this.name,
      cacher: cacher.name,
      file: file.slice(file.lastIndexOf("/") + 1),
      created_at: new Date().toISOString(),
      labbook_version: p.labbookVersion,
      git_commit: p.gitCommit,
      git_dirty: p.gitDirty,
      ...(inputs ? { inputs: [...inputs] } : {}),
    };
  }

  /** True when every output of `stage` is cached under `hash` (default: its hash now) and not to be overwritten. */
  async isCached(stage: StageSpec, hash: string = this.stageHash(stage)): Promise<boolean> {
    if (stage.cachers.length === 0 || this.#overwriting(stage.name)) return false;
    for (const [i, output] of stage.outputs.entries()) {
      if (!(await this.cache.has(this.cache.keys(hash, stage.name, output, stage.cachers[i] as Cacher)))) return false;
    }
    return true;
  }

  /** Run one stage on this record: skip it when cached (outputs then load lazily), otherwise run and cache. */
  async run(stage: RunnableStage, inputHashes?: readonly string[]): Promise<void> {
    await this.#execute(
      stage,
      async () => {
        const inputs: Record<string, unknown> = {};
        for (const name of stage.inputs) inputs[name] = await this.get(name);
        return stage.run(inputs, this);
      },
      inputHashes,
    );
  }

  /** @internal Run an aggregate with this record as its own record, over `records`. */
  async runAggregate(stage: RunnableAggregate, records: ReadonlyArray<PipelineRecord<P>>): Promise<void> {
    await this.#execute(
      stage,
      async () => {
        const inputs: Array<AggregateInput<Record<string, unknown>, P>> = [];
        for (const r of records) {
          const values: Record<string, unknown> = {};
          for (const name of stage.inputs) values[name] = await r.get(name);
          inputs.push({ name: r.name, hash: r.hash, params: r.params, values });
        }
        return stage.run(inputs, this);
      },
      records.map((r) => r.hash),
    );
  }

  async #execute(stage: StageSpec, compute: () => Promise<Record<string, unknown>>, inputHashes?: readonly string[]): Promise<void> {
    const started = performance.now();
    const cached = stage.cachers.length > 0;
    const hash = this.stageHash(stage);
    const keys = stage.outputs.map((o, i) => (cached ? this.cache.keys(hash, stage.name, o, stage.cachers[i] as Cacher) : null));
    const run: StageRun = {
      stage: stage.name,
      kind: stage.kind,
      hash,
      inputs: [...stage.inputs],
      outputs: [],
      status: "computed",
      durationMs: 0,
    };
    this.context.onEvent?.({ type: "stage-start", record: this.name, stage: stage.name });
    this.#current = stage.name;
    this.#currentHash = hash;
    try {
      if (await this.isCached(stage, hash)) {
        run.status = "cached";
        for (const [i, output] of stage.outputs.entries()) {
          const k = keys[i] as NonNullable<(typeof keys)[number]>;
          const cacher = stage.cachers[i] as Cacher;
          this.setLazy(output, stage.name, k.data, () => this.cache.load(k, cacher), hash);
          (run.outputs as StageRun["outputs"][number][]).push({ name: output, key: k.data, summary: "cached (not loaded)" });
        }
      } else {
        let result: Record<string, unknown>;
        try {
          result = await compute();
        } catch (cause) {
          run.status = "failed";
          if (isLabbookError(cause, "STAGE_FAILED")) throw cause;
          throw new LabbookError(
            "STAGE_FAILED",
            `Stage "${stage.name}" failed for record "${this.name}" (hash ${hash.slice(0, 12)}): ${(cause as Error)?.message ?? String(cause)}`,
            { path: stage.name, cause },
          );
        }
        if (result === null || typeof result !== "object") {
          run.status = "failed";
          throw new LabbookError(
            "STAGE_FAILED",
            `Stage "${stage.name}" returned ${String(result)}: it must return an object with ${stage.outputs.join(", ") || "no outputs ({})"}.`,
            {
              path: stage.name,
            },
          );
        }
        const missing = stage.outputs.filter((o) => !(o in result));
        if (missing.length > 0) {
          run.status = "failed";
          throw new LabbookError(
            "STAGE_FAILED",
            `Stage "${stage.name}" did not return its declared output(s) ${missing.join(", ")} for record "${this.name}".`,
            {
              path: stage.name,
            },
          );
        }
        run.status = cached ? "computed" : "uncached";
        const overwrite = this.#overwriting(stage.name);
        for (const [i, output] of stage.outputs.entries()) {
          const value = result[output];
          const k = keys[i];
          if (k) {
            const cacher = stage.cachers[i] as Cacher;
            await this.cache.save(k, value, cacher, this.#metadata(stage, hash, output, cacher, k.data, inputHashes), overwrite);
          }
          this.set(output, value, stage.name, k?.data ?? null, hash);
          (run.outputs as StageRun["outputs"][number][]).push({ name: output, key: k?.data ?? null, summary: summarize(value) });
        }
      }
    } finally {
      this.#current = undefined;
      this.#currentHash = undefined;
      run.durationMs = performance.now() - started;
      this.stages.push(run);
      this.context.onEvent?.({ type: "stage-end", record: this.name, stage: stage.name, status: run.status, durationMs: run.durationMs });
    }
  }
}
