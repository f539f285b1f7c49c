import { type Experiment, LabbookError, type Project } from "@labbook/core";
import { forEachLimit } from "@labbook/core/internal";
import type { ExportOptions, ExportSummary, RunResult } from "../export-types.js";
import { assertKeyLengths, type RunSpec, runSpecOf } from "../run-spec.js";
import { MLFLOW_LIMITS, MlflowClient, type MlflowKeyValue, type MlflowMetric, type MlflowOptions, type MlflowRun } from "./client.js";

/** Options of an export to MLflow. */
export interface MlflowExportOptions extends ExportOptions, MlflowOptions {
  /** The MLflow experiment the runs go to (created when missing). Default "labbook". */
  experimentName?: string | undefined;
  /** A run deleted in MLflow since the last export: "error" (default) or "recreate" a new run. */
  onDeletedRun?: "error" | "recreate" | undefined;
}

const FINGERPRINT_TAG = "labbook.fingerprint";
const KEY_TAG = "labbook.slug";
/** Runs exported at once; the server's own concurrency does the rest. */
const RUN_CONCURRENCY = 4;

function tag(run: MlflowRun, key: string): string | undefined {
  return run.data.tags?.find((t) => t.key === key)?.value;
}

/** Runs by their labbook key; an active run wins over deleted ones with the same key. */
function indexRuns(runs: MlflowRun[]): Map<string, MlflowRun> {
  const byKey = new Map<string, MlflowRun>();
  for (const run of runs) {
    const key = tag(run, KEY_TAG);
    if (key === undefined) continue;
    const seen = byKey.get(key);
    if (!seen || (seen.info.lifecycle_stage === "deleted" && run.info.lifecycle_stage !== "deleted")) byKey.set(key, run);
  }
  return byKey;
}

/** Fills log-batch calls within MLflow's limits, in the order entities are added. */
class Batcher {
  readonly batches: Array<{ metrics: MlflowMetric[]; params: MlflowKeyValue[]; tags: MlflowKeyValue[] }> = [];
  #current = { metrics: [] as MlflowMetric[], params: [] as MlflowKeyValue[], tags: [] as MlflowKeyValue[] };

  #room(kind: "metrics" | "params" | "tags"): boolean {
    const c = this.#current;
    const limit = kind === "metrics" ? MLFLOW_LIMITS.metricsPerBatch : kind === "params" ? MLFLOW_LIMITS.paramsPerBatch : MLFLOW_LIMITS.tagsPerBatch;
    return c[kind].length < limit && c.metrics.length + c.params.length + c.tags.length < MLFLOW_LIMITS.entitiesPerBatch;
  }
  add(kind: "metrics", item: MlflowMetric): void;
  add(kind: "params" | "tags", item: MlflowKeyValue): void;
  add(kind: "metrics" | "params" | "tags", item: MlflowMetric | MlflowKeyValue): void {
    if (!this.#room(kind)) this.flush();
    (this.#current[kind] as Array<MlflowMetric | MlflowKeyValue>).push(item);
  }
  flush(): void {
    const c = this.#current;
    if (c.metrics.length + c.params.length + c.tags.length > 0) this.batches.push(c);
    this.#current = { metrics: [], params: [], tags: [] };
  }
}

function pointKey(step: number, timestamp: number, value: number): string {
  return `${step}|${timestamp}|${Number.isNaN(value) ? "NaN" : value}`;
}

class MlflowExporter {
  readonly client: MlflowClient;
  readonly options: MlflowExportOptions;
  experimentId = "";
  runs = new Map<string, MlflowRun>();

  constructor(options: MlflowExportOptions) {
    this.client = new MlflowClient(options);
    this.options = options;
  }

  /** Find (or, unless `create` is false, create) the experiment and read its runs. */
  async prepare(create: boolean): Promise<boolean> {
    const name = this.options.experimentName ?? "labbook";
    const existing = await this.client.getExperimentByName(name);
    if (existing?.lifecycle_stage === "deleted") {
      throw new LabbookError(
        "CONFLICT",
        `The MLflow experiment "${name}" (id ${existing.experiment_id}) at ${this.client.url} is deleted. Restore it in MLflow, or export to another experimentName.`,
        { path: this.client.url },
      );
    }
    if (!existing && !create) return false;
    this.experimentId = existing?.experiment_id ?? (await this.client.createExperiment(name));
    this.runs = indexRuns(await this.client.searchRuns(this.experimentId));
    return true;
  }

  /** What would happen to this run: created, updated or unchanged (a deleted run is CONFLICT). */
  action(spec: RunSpec): RunResult["action"] {
    const run = this.runs.get(spec.key);
    if (!run) return "created";
    if (run.info.lifecycle_stage === "deleted") {
      if (this.options.onDeletedRun === "recreate") return "created";
      throw new LabbookError(
        "CONFLICT",
        `The MLflow run ${run.info.run_id} of experiment "${spec.key}" was deleted in MLflow after an earlier export. Restore it (mlflow runs restore --run-id ${run.info.run_id}) or export with onDeletedRun: "recreate" (--recreate-deleted) to make a new run. Nothing was sent for it.`,
        { path: this.client.url },
      );
    }
    return tag(run, FINGERPRINT_TAG) === spec.fingerprint ? "unchanged" : "updated";
  }

  /** Send one run (and its tests as nested runs). */
  async exportRun(spec: RunSpec, parentRunId?: string): Promise<RunResult> {
    const action = this.action(spec);
    const found = this.runs.get(spec.key);
    const result: RunResult = { slug: spec.key, action, runId: found?.info.run_id ?? "", metricsSent: 0, paramsSent: 0, artifactsSent: 0, notes: [] };
    if (action === "unchanged" && found) return result;
    const existing = action === "updated" ? found : undefined;
    const tags: MlflowKeyValue[] = Object.entries(spec.tags).map(([key, value]) => ({ key, value }));
    if (parentRunId) tags.push({ key: "mlflow.parentRunId", value: parentRunId });
    if (spec.description) tags.push({ key: "mlflow.note.content", value: spec.description });
    const run = existing ?? (await this.client.createRun(this.experimentId, spec.name, spec.startTime, [{ key: KEY_TAG, value: spec.key }]));
    result.runId = run.info.run_id;

    const batcher = new Batcher();
    const oversize: Array<{ path: string; text: string }> = [];
    // Parameters: MLflow refuses to change a logged one, so only new keys go; a changed value is reported.
    const logged = new Map((existing?.data.params ?? []).map((p) => [p.key, p.value] as const));
    for (const [key, value] of Object.entries(spec.params)) {
      if (value.length > MLFLOW_LIMITS.paramValueLength) {
        oversize.push({ path: `labbook/params/${key}.txt`, text: value });
        result.notes.push(
          `parameter "${key}" (${value.length} characters) is over MLflow's ${MLFLOW_LIMITS.paramValueLength}: sent as artifact labbook/params/${key}.txt`,
        );
        continue;
      }
      const before = logged.get(key);
      if (before === value) continue;
      if (before !== undefined) {
        result.notes.push(
          `parameter "${key}" changed in labbook (${JSON.stringify(before)} → ${JSON.stringify(value)}) but MLflow cannot change a logged parameter: kept as it was`,
        );
        continue;
      }
      batcher.add("params", { key, value });
      result.paramsSent++;
    }
    for (const t of tags) {
      if (t.value.length > MLFLOW_LIMITS.tagValueLength) {
        oversize.push({ path: `labbook/tags/${t.key}.txt`, text: t.value });
        result.notes.push(
          `tag "${t.key}" (${t.value.length} characters) is over MLflow's ${MLFLOW_LIMITS.tagValueLength}: sent as artifact labbook/tags/${t.key}.txt`,
        );
      } else batcher.add("tags", t);
    }
    // Metrics: every point of every series, less the points the run already has.
    for (const [key, series] of Object.entries(spec.metrics)) {
      const have = existing ? new Set((await this.client.metricHistory(run.info.run_id, key)).map((m) => pointKey(m.step, m.timestamp, m.value))) : undefined;
      for (let i = 0; i < series.steps.length; i++) {
        const point = { key, value: series.values[i] as number, timestamp: series.times[i] as number, step: series.steps[i] as number };
        if (have?.has(pointKey(point.step, point.timestamp, point.value))) continue;
        batcher.add("metrics", point);
        result.metricsSent++;
      }
    }
    // Artifacts, then tests, before the run is marked finished and fingerprinted.
    const remote = existing ? await this.#remoteSizes(run) : new Map<string, number | undefined>();
    const encoder = new TextEncoder();
    for (const o of oversize) {
      const bytes = encoder.encode(o.text);
      if (remote.get(o.path) === bytes.byteLength) continue;
      await this.client.uploadArtifact(run.info, o.path, bytes);
      result.artifactsSent++;
    }
    for (const a of spec.artifacts) {
      if (a.size !== undefined && remote.get(a.path) === a.size) continue;
      await this.client.uploadArtifact(run.info, a.path, await a.open(), a.size);
      result.artifactsSent++;
    }
    result.tests = [];
    for (const test of spec.tests) result.tests.push(await this.exportRun(test, run.info.run_id));
    await this.client.updateRun(run.info.run_id, { status: "FINISHED", end_time: spec.endTime, run_name: spec.name });
    // The fingerprint goes last, so an export that stopped half way is redone (and resumes) next time.
    batcher.add("tags", { key: FINGERPRINT_TAG, value: spec.fingerprint });
    batcher.flush();
    for (const batch of batcher.batches) await this.client.logBatch(run.info.run_id, batch);
    return result;
  }

  /** Sizes of the files a run already has, by path (walking its folders). */
  async #remoteSizes(run: MlflowRun): Promise<Map<string, number | undefined>> {
    const sizes = new Map<string, number | undefined>();
    const folders = [""];
    while (folders.length > 0) {
      const folder = folders.pop() as string;
      for (const f of await this.client.listArtifacts(run.info.run_id, folder)) {
        if (f.is_dir) folders.push(f.path);
        else sizes.set(f.path, f.file_size);
      }
    }
    return sizes;
  }
}

/** Export experiments of `project` to MLflow; see exportProject. */
export async function exportToMlflow(project: Project, experiments: readonly Experiment[], options: MlflowExportOptions): Promise<ExportSummary> {
  const exporter = new MlflowExporter(options);
  const location = project.storage.describe(project.path);
  // Everything is read and checked before the first request, so bad input sends nothing.
  const specs: RunSpec[] = [];
  for (const exp of experiments) {
    const spec = await runSpecOf(exp, location);
    assertKeyLengths(spec, MLFLOW_LIMITS.keyLength, "MLflow");
    specs.push(spec);
  }
  const summary: ExportSummary = {
    backend: "mlflow",
    target: `${exporter.client.url} experiment "${options.experimentName ?? "labbook"}"`,
    created: 0,
    updated: 0,
    unchanged: 0,
    runs: [],
    dryRun: options.dryRun === true,
  };
  const ready = await exporter.prepare(options.dryRun !== true);
  let done = 0;
  const results = new Map<RunSpec, RunResult>();
  if (options.dryRun) {
    for (const spec of specs) {
      const action = ready ? exporter.action(spec) : "created";
      results.set(spec, {
        slug: spec.key,
        action,
        runId: exporter.runs.get(spec.key)?.info.run_id ?? "",
        metricsSent: 0,
        paramsSent: 0,
        artifactsSent: 0,
        notes: [],
      });
      options.onProgress?.({ done: ++done, total: specs.length, slug: spec.key, action });
    }
  } else {
    // A deleted run stops the export before anything is sent.
    for (const spec of specs) exporter.action(spec);
    await forEachLimit(specs, options.concurrency ?? RUN_CONCURRENCY, async (spec) => {
      const result = await exporter.exportRun(spec);
      results.set(spec, result);
      options.onProgress?.({ done: ++done, total: specs.length, slug: spec.key, action: result.action });
    });
  }
  for (const spec of specs) {
    const r = results.get(spec) as RunResult;
    summary.runs.push(r);
    summary[r.action]++;
  }
  return summary;
}
