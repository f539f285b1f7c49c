import { createHash } from "node:crypto";
import { type Experiment, type Project, slugify, stringifyPyJson } from "@labbook/core";
import { forEachLimit } from "@labbook/core/internal";
import type { ExportOptions, ExportSummary, RunResult } from "../export-types.js";
import { type ArtifactSpec, assertKeyLengths, type RunSpec, runSpecOf, type SeriesSpec } from "../run-spec.js";
import { WandbClient, type WandbFile, type WandbOptions } from "./client.js";

/** Options of an export to W&B. */
export interface WandbExportOptions extends ExportOptions, WandbOptions {}

/** W&B keys may be long, but the UI truncates; keep MLflow's bound so both exports take the same projects. */
const KEY_LENGTH = 250;
const RUN_CONCURRENCY = 4;

/** The same labbook experiment always maps to the same W&B run id, so exporting again updates it. */
export function wandbRunId(projectLocation: string, key: string): string {
  return createHash("sha256").update(`${projectLocation}\n${key}`).digest("hex").slice(0, 16);
}

/** Python-style JSON (NaN and Infinity kept), which W&B's own client writes too. */
function line(value: unknown): string {
  return stringifyPyJson(value);
}

/** History rows: one per step, every metric logged at that step in it (metrics without a step go only to the summary). */
function historyRows(metrics: Record<string, SeriesSpec>, start: number): Array<Record<string, unknown>> {
  const rows = new Map<number, Record<string, unknown>>();
  for (const [name, s] of Object.entries(metrics)) {
    if (!s.stepped) continue;
    s.steps.forEach((step, i) => {
      const time = s.times[i] as number;
      let row = rows.get(step);
      if (!row) {
        row = { _step: step, _timestamp: time / 1000, _runtime: Math.max(0, (time - start) / 1000) };
        rows.set(step, row);
      }
      row[name] = s.values[i];
    });
  }
  return [...rows.values()].sort((a, b) => (a._step as number) - (b._step as number));
}

async function hashed(a: ArtifactSpec, path: string): Promise<WandbFile> {
  const md5 = createHash("md5");
  let size = 0;
  for await (const chunk of await a.open()) {
    md5.update(chunk);
    size += chunk.byteLength;
  }
  return { path, size, md5: md5.digest("base64"), open: () => a.open() };
}

async function exportRun(client: WandbClient, spec: RunSpec, projectLocation: string): Promise<RunResult> {
  const runId = wandbRunId(projectLocation, spec.key);
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec.rawParams)) config[k] = v;
  config._labbook = {
    slug: spec.key,
    author: spec.author,
    project: projectLocation,
    created_at: spec.tags["labbook.created_at"],
    last_updated: spec.tags["labbook.last_updated"],
  };
  const tests = Object.fromEntries(spec.tests.map((t) => [t.name, { description: t.description ?? null, parameters: t.rawParams }]));
  if (spec.tests.length > 0) config._labbook_tests = tests;
  const run = await client.upsertRun({ name: runId, displayName: spec.name, config, tags: spec.labbookTags });
  const rows = historyRows(spec.metrics, spec.startTime);
  const last = rows.at(-1);
  const summary: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(spec.metrics)) summary[name] = s.values.at(-1);
  for (const t of spec.tests) for (const [name, s] of Object.entries(t.metrics)) summary[`tests/${t.name}/${name}`] = s.values.at(-1);
  if (last) Object.assign(summary, { _step: last._step, _timestamp: last._timestamp, _runtime: last._runtime });
  await client.fileStream(run.entity, run.project, runId, { "wandb-history.jsonl": rows.map(line), "wandb-summary.json": [line(summary)] }, true);
  const result: RunResult = {
    slug: spec.key,
    action: run.inserted ? "created" : "updated",
    runId,
    metricsSent: rows.length,
    paramsSent: Object.keys(spec.params).length,
    artifactsSent: 0,
    notes: [],
  };
  const files: WandbFile[] = [];
  for (const a of spec.artifacts) files.push(await hashed(a, a.path));
  for (const t of spec.tests) for (const a of t.artifacts) files.push(await hashed(a, `${slugify(t.name)}/${a.path}`));
  if (files.length > 0) {
    await client.logArtifact(
      { entity: run.entity, project: run.project, run: runId, historyStep: (last?._step as number | undefined) ?? 0 },
      {
        name: `${spec.key.replace(/[^A-Za-z0-9._-]/g, "-")}-artifacts`,
        type: "labbook-artifacts",
        metadata: { labbook_slug: spec.key, artifacts: spec.artifacts.map((a) => a.name) },
      },
      files,
    );
    result.artifactsSent = files.length;
  }
  return result;
}

/**
 * Export experiments to W&B: one run per experiment (its id derived from the project and slug, so
 * exporting again updates it), config from the parameters, history and summary from the metrics,
 * the labbook tags, and the artifact files as one W&B artifact logged by the run. Tests go into the
 * summary as `tests/<test>/<metric>` and into the config under `_labbook_tests`.
 */
export async function exportToWandb(project: Project, experiments: readonly Experiment[], options: WandbExportOptions): Promise<ExportSummary> {
  const client = new WandbClient(options);
  const location = project.storage.describe(project.path);
  const specs: RunSpec[] = [];
  for (const exp of experiments) {
    const spec = await runSpecOf(exp, location);
    assertKeyLengths(spec, KEY_LENGTH, "W&B");
    specs.push(spec);
  }
  const summary: ExportSummary = {
    backend: "wandb",
    target: `${client.baseUrl} project "${client.project}"`,
    dryRun: options.dryRun === true,
    created: 0,
    updated: 0,
    unchanged: 0,
    runs: [],
  };
  const results = new Map<RunSpec, RunResult>();
  let done = 0;
  if (options.dryRun) {
    // W&B runs are upserted by id; without a read API here a dry run lists what would be sent.
    for (const spec of specs) {
      const r: RunResult = {
        slug: spec.key,
        action: "updated",
        runId: wandbRunId(location, spec.key),
        metricsSent: 0,
        paramsSent: 0,
        artifactsSent: 0,
        notes: ["dry run: created or updated"],
      };
      results.set(spec, r);
      options.onProgress?.({ done: ++done, total: specs.length, slug: spec.key, action: r.action });
    }
  } else {
    await forEachLimit(specs, options.concurrency ?? RUN_CONCURRENCY, async (spec) => {
      const r = await exportRun(client, spec, location);
      results.set(spec, r);
      options.onProgress?.({ done: ++done, total: specs.length, slug: spec.key, action: r.action });
    });
  }
  for (const spec of specs) {
    const r = results.get(spec) as RunResult;
    summary.runs.push(r);
    summary[r.action]++;
  }
  return summary;
}
