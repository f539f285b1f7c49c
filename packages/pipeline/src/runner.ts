import { type ChildProcess, fork } from "node:child_process";
import { type Experiment, isLabbookError, joinKey, LabbookError, Project, type Storage } from "@labbook/core";
import { Cache } from "./cache.js";
import type { Cacher } from "./cacher.js";
import { aggregateRecord, plan, runAggregates, runRecord } from "./engine.js";
import { type ParameterSet, type PipelineExperiment, validateExperiment, validateParameterSets } from "./experiment.js";
import { type ProgressSink, StageProgress } from "./progress.js";
import { lockfileHash, readProvenance } from "./provenance.js";
import { PipelineRecord, type Provenance, type RunContext, type StageEvent, type StageRun } from "./record.js";
import { type RunSummary, renderIndex, renderReport } from "./report.js";
import type { ReportItem } from "./report-items.js";

/** The tag every pipeline run's experiment carries (the viewer lists these). */
export const PIPELINE_RUN_TAG = "pipeline-run";
/** Set in worker processes of a `--parallel` run. */
export const WORKER_ENV = "LABBOOK_PIPELINE_WORKER";

export interface RunOptions {
  readonly experiment: PipelineExperiment;
  /** Parameter sets with where each came from (a file or set name, for messages). */
  readonly parameterSets: ReadonlyArray<{ set: unknown; source: string }>;
  /** Parameter files to keep with a `--store-full` run: name and content. */
  readonly parameterFiles?: ReadonlyArray<{ name: string; content: string }> | undefined;
  /** Where the cache (`cache/`), full runs (`runs/`) and reports (`reports/`) live. */
  readonly data: Storage;
  /** Folder of the cache inside `data` (default "cache"). */
  readonly cacheDir?: string | undefined;
  /** The project runs are logged to (default: `project.json` in `data`). */
  readonly openProject?: (() => Promise<Project>) | undefined;
  readonly overwrite?: boolean | undefined;
  readonly overwriteStages?: readonly string[] | undefined;
  /** Print what would run and what is cached; run and write nothing. */
  readonly dry?: boolean | undefined;
  /** Print each parameter set's hash; run and write nothing. */
  readonly hashes?: boolean | undefined;
  /** Worker processes for the parameter sets (default 1: in this process). */
  readonly parallel?: number | undefined;
  readonly storeFull?: boolean | undefined;
  /** Write the HTML report (default true). */
  readonly report?: boolean | undefined;
  readonly notes?: string | undefined;
  /** The command line that reproduces this run. */
  readonly command?: string | undefined;
  /** Absolute path of the experiment module (for the store-full reproduce line). */
  readonly modulePath?: string | undefined;
  /** Where results of --dry and --hashes go (default stdout). */
  readonly out?: ((line: string) => void) | undefined;
  /** Where progress goes (default stderr). */
  readonly progress?: ProgressSink | undefined;
  /** Start one worker (default: this process's own command line again, with an IPC channel). */
  readonly spawnWorker?: (() => ChildProcess) | undefined;
  /** Clock for run folders and durations (tests). */
  readonly now?: (() => Date) | undefined;
}

export interface RunResult {
  readonly status: "done" | "failed" | "dry" | "hashes" | "worker";
  readonly runNumber?: number | undefined;
  readonly experiment?: Experiment | undefined;
  readonly records: readonly PipelineRecord[];
  readonly aggregate?: PipelineRecord | undefined;
  readonly error?: LabbookError | undefined;
  /** Key of the HTML report in `data`. */
  readonly reportKey?: string | undefined;
  /** Key of the store-full folder in `data`. */
  readonly runFolder?: string | undefined;
}

/** A record as it travels from a worker to the parent. */
interface RecordMessage {
  name: string;
  hash: string;
  params: Record<string, unknown>;
  stages: StageRun[];
  reports: Array<ReportItem & { stage: string | null }>;
  metrics: Record<string, number>;
  tracked: string[];
  state: Array<{ name: string; stage: string; key: string | null; hash: string; value?: unknown }>;
}

type ToWorker = { type: "run"; index: number } | { type: "exit" };
type FromWorker =
  | { type: "ready" }
  | { type: "event"; event: StageEvent }
  | { type: "done"; index: number; record: RecordMessage }
  | {
      type: "failed";
      index: number;
      record: RecordMessage | undefined;
      error: { message: string; code?: string | undefined; path?: string | undefined; stack?: string | undefined };
    };

function cacherFor(experiment: PipelineExperiment, stageName: string, output: string): Cacher | undefined {
  const stage = [...experiment.stages, ...experiment.aggregates].find((s) => s.name === stageName);
  const i = stage?.outputs.indexOf(output) ?? -1;
  return i < 0 ? undefined : stage?.cachers[i];
}

async function toMessage(record: PipelineRecord): Promise<RecordMessage> {
  const state: RecordMessage["state"] = [];
  for (const name of record.keys()) {
    const key = record.keyOf(name);
    // Cached values are read back from the shared cache by the parent (lazily); the rest travel by IPC.
    const hash = record.hashOf(name);
    state.push(key === null ? { name, stage: "", key, hash, value: await record.get(name) } : { name, stage: "", key, hash });
  }
  return {
    name: record.name,
    hash: record.hash,
    params: record.params as Record<string, unknown>,
    stages: record.stages,
    reports: record.reports,
    metrics: record.metrics,
    tracked: record.tracked,
    state,
  };
}

function fromMessage(message: RecordMessage, experiment: PipelineExperiment, context: RunContext): PipelineRecord {
  const record = new PipelineRecord(message.params as ParameterSet, context, message.hash);
  record.stages.push(...message.stages);
  record.reports.push(...message.reports);
  Object.assign(record.metrics, message.metrics);
  record.tracked.push(...message.tracked);
  for (const slot of message.state) {
    const run = message.stages.find((s) => s.outputs.some((o) => o.name === slot.name));
    const stageName = run?.stage ?? "";
    const cacher = cacherFor(experiment, stageName, slot.name);
    if (slot.key !== null && cacher) {
      const keys = context.cache.keys(slot.hash, stageName, slot.name, cacher);
      record.setLazy(slot.name, stageName, slot.key, () => context.cache.load(keys, cacher), slot.hash);
    } else {
      record.set(slot.name, slot.value, stageName, null, slot.hash);
    }
  }
  return record;
}

/** The worker side of `--parallel`: run the records the parent asks for and send them back. */
async function serveWorker(experiment: PipelineExperiment, sets: readonly ParameterSet[], context: RunContext): Promise<RunResult> {
  const send = (message: FromWorker) => process.send?.(message);
  const ctx: RunContext = { ...context, onEvent: (event) => send({ type: "event", event }) };
  await new Promise<void>((resolve) => {
    process.on("message", (message: ToWorker) => {
      if (message.type === "exit") {
        process.removeAllListeners("message");
        resolve();
        return;
      }
      const set = sets[message.index] as ParameterSet;
      const record = new PipelineRecord(set, ctx);
      runRecord(experiment, set, ctx, record)
        .then(async (done) => send({ type: "done", index: message.index, record: await toMessage(done) }))
        .catch(async (error: unknown) => {
          const e = error as LabbookError;
          const partial = await toMessage(record).catch(() => undefined);
          send({
            type: "failed",
            index: message.index,
            record: partial,
            error: { message: e?.message ?? String(error), code: e?.code, path: e?.path, stack: e?.stack },
          });
        });
    });
    send({ type: "ready" });
  });
  process.disconnect?.();
  return { status: "worker", records: [] };
}

function defaultSpawn(): ChildProcess {
  const script = process.argv[1];
  if (!script) throw new LabbookError("UNSUPPORTED", "--parallel needs a command line to start workers from (process.argv[1] is empty).");
  return fork(script, process.argv.slice(2), {
    env: { ...process.env, [WORKER_ENV]: "1" },
    serialization: "advanced",
    // What stages print still reaches the terminal; progress comes back over IPC.
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/** Spread the parameter sets over `n` workers; resolves with every record, or rejects with the first failure. */
async function runParallel(
  n: number,
  experiment: PipelineExperiment,
  sets: readonly ParameterSet[],
  context: RunContext,
  spawn: () => ChildProcess,
): Promise<PipelineRecord[]> {
  const results: Array<PipelineRecord | undefined> = Array.from({ length: sets.length }, () => undefined);
  let next = 0;
  let failure: LabbookError | undefined;
  const workers = Array.from({ length: Math.min(n, sets.length) }, () => spawn());
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          const dispatch = () => {
            if (failure || next >= sets.length) {
              if (worker.connected) worker.send({ type: "exit" } satisfies ToWorker);
              return;
            }
            worker.send({ type: "run", index: next++ } satisfies ToWorker);
          };
          worker.on("message", (message: FromWorker) => {
            if (message.type === "ready") dispatch();
            else if (message.type === "event") context.onEvent?.(message.event);
            else if (message.type === "done") {
              results[message.index] = fromMessage(message.record, experiment, context);
              dispatch();
            } else if (message.type === "failed") {
              const { error } = message;
              if (message.record) results[message.index] = fromMessage(message.record, experiment, context);
              failure ??= new LabbookError((error.code as LabbookError["code"]) ?? "STAGE_FAILED", error.message, { path: error.path });
              dispatch();
            }
          });
          worker.on("exit", (code) => {
            if (!failure && results.some((r, i) => r === undefined && i < next) && code !== 0) {
              failure = new LabbookError("STAGE_FAILED", `A worker process exited with code ${code} before finishing its parameter set.`);
            }
            resolve();
          });
          worker.on("error", (cause) => {
            failure ??= new LabbookError("STAGE_FAILED", `A worker process failed: ${cause.message}`, { cause });
            resolve();
          });
        }),
    ),
  );
  if (failure) throw Object.assign(failure, { records: results.filter((r) => r !== undefined) });
  const missing = results.indexOf(undefined);
  if (missing >= 0) throw new LabbookError("STAGE_FAILED", `No result for parameter set "${sets[missing]?.name}": its worker stopped early.`);
  return results as PipelineRecord[];
}

function stageCount(experiment: PipelineExperiment, sets: number): number {
  return experiment.stages.length * sets + experiment.aggregates.length;
}

/**
 * Run an experiment for its parameter sets: per-record stages (skipping what is cached), then the
 * aggregates; log the run as an experiment tagged `pipeline-run`, write its HTML report and, with
 * `storeFull`, a self-contained copy. A failing stage marks the run failed and rejects with STAGE_FAILED.
 */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { experiment } = options;
  const overwriteStages = options.overwriteStages ?? [];
  // Everything that can be checked is checked before anything runs or is written.
  validateExperiment(experiment, { overwriteStages });
  const sets = validateParameterSets(experiment, options.parameterSets);
  const parallel = options.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new LabbookError("INVALID_ARGUMENT", `parallel must be a whole number of workers >= 1, not ${parallel}.`);
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const provenance: Provenance = readProvenance();
  const cache = new Cache(options.data, { prefix: experiment.name, dir: options.cacheDir });
  const context: RunContext = {
    cache,
    overwrite: options.overwrite,
    overwriteStages: new Set(overwriteStages),
    provenance,
    schema: experiment.parameters,
  };

  if (process.env[WORKER_ENV] === "1" && process.send) return serveWorker(experiment, sets, context);

  if (options.hashes) {
    const records = sets.map((set) => new PipelineRecord(set, context));
    for (const r of records) out(`${r.name}\t${r.hash}`);
    if (experiment.aggregates.length > 0) out(`${aggregateRecord(records, context).name}\t${aggregateRecord(records, context).hash}`);
    return { status: "hashes", records };
  }
  if (options.dry) {
    const entries = await plan(experiment, sets, context);
    for (const e of entries)
      out(`${e.cached ? "cached" : "run   "}  ${e.record}  ${e.stage}  ${e.hash.slice(0, 12)}${e.keys.length > 0 ? `  ${e.keys.join(" ")}` : ""}`);
    const cached = entries.filter((e) => e.cached).length;
    out(`${entries.length - cached} stage(s) would run, ${cached} cached. Nothing was run or written (--dry).`);
    return { status: "dry", records: [] };
  }

  const now = options.now ?? (() => new Date());
  const started = now();
  const project = await (options.openProject ?? (() => Project.open("project.json", { storage: options.data })))();
  const runNumber = await claimRunNumber(
    options.data,
    experiment.name,
    project.experiments.filter((e) => e.parameters.pipeline === experiment.name && e.tags.includes(PIPELINE_RUN_TAG)).length + 1,
  );
  // One name per run: two runs started in the same second would otherwise share a slug, and the
  // project's merge of same-slug experiments across repeated saves is not safe (see docs/pipeline.md).
  const exp = await project.log(`${experiment.name} run ${runNumber}`, (e) => {
    e.tag(PIPELINE_RUN_TAG);
    e.logParameter("pipeline", experiment.name);
    e.logParameter("run_number", runNumber);
    e.logParameter("status", "running");
    e.logParameter("git_commit", provenance.gitCommit);
    e.logParameter("git_dirty", provenance.gitDirty);
    e.logParameter("command", options.command ?? null);
    e.logParameter("notes", options.notes ?? null);
    e.logParameter("labbook_version", provenance.labbookVersion);
    // Worker processes that ran the parameter sets (1: this process).
    e.logParameter("workers", parallel > 1 && sets.length > 1 ? Math.min(parallel, sets.length) : 1);
    e.logParameter(
      "parameter_sets",
      Object.fromEntries(sets.map((s) => [s.name, { hash: new PipelineRecord(s, context).hash, values: JSON.parse(JSON.stringify(s)) }])),
    );
  });
  await project.save();

  const progress = new StageProgress(options.progress ?? process.stderr, stageCount(experiment, sets.length));
  const runContext: RunContext = { ...context, onEvent: (event) => progress.event(event) };
  let records: PipelineRecord[] = [];
  let agg: PipelineRecord | undefined;
  let error: LabbookError | undefined;
  try {
    if (parallel > 1 && sets.length > 1) {
      records = await runParallel(parallel, experiment, sets, runContext, options.spawnWorker ?? defaultSpawn);
    } else {
      for (const set of sets) {
        // Kept even when a stage fails, so the report shows how far it got.
        const record = new PipelineRecord(set, runContext);
        records.push(record);
        await runRecord(experiment, set, runContext, record);
      }
    }
    agg = await runAggregates(experiment, records, runContext);
  } catch (cause) {
    const partial = (cause as { records?: PipelineRecord[] }).records;
    if (partial) records = partial;
    error = isLabbookError(cause) ? cause : new LabbookError("STAGE_FAILED", (cause as Error)?.message ?? String(cause), { cause });
  } finally {
    progress.finish();
  }
  const durationS = (now().getTime() - started.getTime()) / 1000;

  for (const record of records) {
    await exp.logTest(record.name, { description: `parameter set "${record.name}", hash ${record.hash}` }, (test) => {
      test.logParameter("hash", record.hash);
      for (const [k, v] of Object.entries(record.params as Record<string, unknown>)) if (k !== "name") test.logParameter(k, v);
      for (const [k, v] of Object.entries(record.metrics)) test.logMetric(k, v);
    });
  }
  if (agg) for (const [k, v] of Object.entries(agg.metrics)) exp.logMetric(k, v);
  if (!error) {
    // Outputs chosen as artifacts are copied from the cache into the run's experiment.
    const chosen: Array<[PipelineRecord, string, Cacher, string]> = [];
    for (const record of [...records, ...(agg ? [agg] : [])]) {
      for (const stage of record === agg ? experiment.aggregates : experiment.stages) {
        for (const name of stage.artifacts) chosen.push([record, name, stage.cachers[stage.outputs.indexOf(name)] as Cacher, stage.name]);
      }
    }
    for (const [record, name, cacher] of chosen) {
      const value = await record.get(name);
      const artifact = record === agg ? name : `${record.name}-${name}`;
      if (cacher.handler && project.handlers.has(cacher.handler)) exp.logArtifact(artifact, value, { handler: cacher.handler });
      else exp.logArtifact(artifact, await cacher.encode(value as never), { handler: "bytes" });
    }
  }
  exp.logParameter("status", error ? "failed" : "done");
  exp.logParameter("error", error ? error.message : null);
  exp.logParameter("duration_s", Math.round(durationS * 1000) / 1000);

  let runFolder: string | undefined;
  if (options.storeFull && !error) runFolder = await storeFull(options, experiment, runNumber, started, records, agg, cache, provenance);

  let reportKey: string | undefined;
  if (options.report !== false) {
    const summary: RunSummary = {
      experiment: experiment.name,
      description: experiment.description,
      runNumber,
      status: error ? "failed" : "done",
      error: error?.message,
      startedAt: started.toISOString(),
      durationS,
      gitCommit: provenance.gitCommit,
      gitDirty: provenance.gitDirty,
      command: options.command,
      notes: options.notes,
      records: [...records, ...(agg ? [agg] : [])].map((r) => ({
        name: r.name,
        hash: r.hash,
        aggregate: r === agg,
        params: r === agg ? {} : (r.params as Record<string, unknown>),
        stages: r.stages,
        reports: r.reports,
        metrics: r.metrics,
      })),
    };
    const html = renderReport(summary);
    exp.logArtifact("report", html, { handler: "text", fname: "report.html" });
    reportKey = joinKey("reports", `${experiment.name}_${runNumber}.html`);
    await options.data.write(reportKey, html, { contentType: "text/html" });
  }
  await project.save();
  if (options.report !== false) {
    const runs = project.experiments
      .filter((e) => e.tags.includes(PIPELINE_RUN_TAG))
      .map((e) => ({
        experiment: String(e.parameters.pipeline ?? e.name),
        runNumber: Number(e.parameters.run_number),
        status: String(e.parameters.status),
        createdAt: e.toRecord().created_at,
        durationS: typeof e.parameters.duration_s === "number" ? e.parameters.duration_s : null,
        href: `${String(e.parameters.pipeline ?? e.name)}_${String(e.parameters.run_number)}.html`,
      }));
    await options.data.write(joinKey("reports", "index.html"), renderIndex(runs), { contentType: "text/html" });
  }
  const runs = [...records, ...(agg ? [agg] : [])].flatMap((r) => r.stages);
  const count = (status: StageRun["status"]) => runs.filter((s) => s.status === status).length;
  (options.progress ?? process.stderr).write(
    `${experiment.name} run ${runNumber} ${error ? "failed" : "done"} in ${durationS.toFixed(2)} s: ${count("computed") + count("uncached")} stage(s) ran, ${count("cached")} cached` +
      `${reportKey ? `; report ${options.data.describe(reportKey)}` : ""}${runFolder ? `; stored in ${options.data.describe(runFolder)}` : ""}\n`,
  );
  const result: RunResult = { status: error ? "failed" : "done", runNumber, experiment: exp, records, aggregate: agg, error, reportKey, runFolder };
  if (error) throw Object.assign(error, { run: result });
  return result;
}

/** Two runs started at once must not share a number: each claims `runs/.numbers/<name>_<n>` create-only. */
async function claimRunNumber(storage: Storage, name: string, from: number): Promise<number> {
  for (let n = from; ; n++) {
    if (!storage.capabilities.conditionalWrites) return n;
    try {
      await storage.write(joinKey("runs", ".numbers", `${name}_${n}`), new Date().toISOString(), { ifNoneMatch: "*" });
      return n;
    } catch (error) {
      if (!isLabbookError(error, "CONFLICT")) throw error;
    }
  }
}

async function storeFull(
  options: RunOptions,
  experiment: PipelineExperiment,
  runNumber: number,
  started: Date,
  records: readonly PipelineRecord[],
  agg: PipelineRecord | undefined,
  cache: Cache,
  provenance: Provenance,
): Promise<string> {
  const stamp = started.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  const folder = joinKey("runs", `${experiment.name}_${runNumber}_${stamp}`);
  const storage = options.data;
  const keys = new Set<string>();
  for (const record of [...records, ...(agg ? [agg] : [])]) {
    for (const run of record.stages) {
      for (const o of run.outputs) {
        if (o.key === null) continue;
        keys.add(o.key);
        keys.add(o.key.replace(/\.[^./]+$/, "_metadata.json"));
      }
    }
    for (const tracked of record.tracked) {
      if (tracked.endsWith("/")) for await (const info of storage.list(tracked)) keys.add(info.key);
      else if (await storage.stat(tracked)) keys.add(tracked);
    }
  }
  // The copy keeps the cache layout, so running again with --data <folder> finds every stage cached.
  const prefix = cache.dir === "" ? "" : `${cache.dir}/`;
  for (const key of keys) await storage.copy(key, joinKey(folder, "cache", key.startsWith(prefix) ? key.slice(prefix.length) : key));
  const paramArgs: string[] = [];
  for (const file of options.parameterFiles ?? []) {
    const base = file.name.replace(/^.*[\\/]/, "");
    await storage.write(joinKey(folder, "params", base), file.content);
    paramArgs.push(`-p params/${base}`);
  }
  const environment = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    lockfile: lockfileHash(),
    labbook_version: provenance.labbookVersion,
    git_commit: provenance.gitCommit,
    git_dirty: provenance.gitDirty,
    command: options.command ?? null,
    created_at: started.toISOString(),
  };
  await storage.write(joinKey(folder, "environment.json"), `${JSON.stringify(environment, null, 2)}\n`);
  const module = options.modulePath ?? "<experiment module>";
  const line = `labbook run ${module} ${paramArgs.join(" ")} --data . --cache-dir cache`.replace(/\s+/g, " ");
  await storage.write(joinKey(folder, "reproduce.sh"), `#!/bin/sh\n# Run from this folder: every stage is found in ./cache.\n${line}\n`);
  return folder;
}
