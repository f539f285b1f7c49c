/**
 * The viewer's JSON API: plain data shaped for the page, read from the sources. Every file it serves
 * is found through an index entry (experiment or repository artifact); a name or version from the
 * request only selects among entries and never becomes part of a path by itself.
 */
import {
  type ArtifactEntry,
  type Experiment,
  type ExperimentRecord,
  joinKey,
  LabbookError,
  METRIC_HISTORY_ARTIFACT,
  type Project,
  parseDependency,
  slugify,
} from "@labbook/core";
import { readSlotBytes, readSlotStream } from "@labbook/core/internal";
import type { Release, Repository } from "@labbook/repository";
import { compileFilter } from "../filter-expression.js";
import type { Source } from "./sources.js";

/** The tag of experiments that record a pipeline run, and the name of their HTML report artifact. */
export const PIPELINE_RUN_TAG = "pipeline-run";
export const PIPELINE_REPORT_ARTIFACT = "report";
/** The page previews (and the server reads whole) metric histories up to this size. */
const MAX_HISTORY_BYTES = 64 * 1024 * 1024;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One row of the experiments table; parameters are flattened to dotted paths as the filter names them. */
export interface ExperimentRow {
  slug: string;
  short_slug: string;
  name: string;
  author: string;
  created_at: string;
  last_updated: string;
  tags: string[];
  metrics: Record<string, number>;
  parameters: Record<string, unknown>;
  tests: number;
  artifacts: number;
  dependencies: number;
  history: boolean;
  report: boolean;
}

/** `{a: {b: 1}, c: [1]}` → `{"a.b": 1, c: [1]}`: leaves of nested objects under dotted names. */
export function flattenParameters(parameters: Record<string, unknown>, prefix = "", into: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(parameters)) {
    const name = prefix + key;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0)
      flattenParameters(value as Record<string, unknown>, `${name}.`, into);
    else into[name] = value;
  }
  return into;
}

function row(e: Experiment): ExperimentRow {
  const r = e.toRecord();
  return {
    slug: r.slug,
    short_slug: r.short_slug,
    name: r.name,
    author: r.author,
    created_at: r.created_at,
    last_updated: r.last_updated,
    tags: [...r.tags],
    metrics: r.metrics,
    parameters: flattenParameters(r.parameters),
    tests: r.tests.length,
    artifacts: r.artifacts.length,
    dependencies: r.dependencies.length,
    history: r.artifacts.some((a) => a.name === METRIC_HISTORY_ARTIFACT),
    report: r.tags.includes(PIPELINE_RUN_TAG) && r.artifacts.some((a) => a.name === PIPELINE_REPORT_ARTIFACT),
  };
}

/** The experiments of a project, optionally filtered with the CLI's filter language (same errors). */
export function listExperiments(source: Source<Project>, filter: string | undefined): { generation: number; total: number; rows: ExperimentRow[] } {
  const project = source.value;
  const experiments = filter === undefined || filter.trim() === "" ? project.experiments : project.filter(compileFilter(filter));
  return { generation: source.generation, total: project.size, rows: experiments.map(row) };
}

export function findExperiment(project: Project, slug: string): Experiment {
  const experiment = project.find(slug);
  if (!experiment) throw new LabbookError("NOT_FOUND", `No experiment "${slug}" in ${project.path}.`, { path: project.path });
  return experiment;
}

/** An artifact's place in the project: the entry the index names, and its storage key. */
export interface ArtifactTarget {
  entry: ArtifactEntry;
  key: string;
}

/** The latest (or the given) version of an artifact of an experiment or of one of its tests. */
export function experimentArtifact(
  project: Project,
  experiment: Experiment,
  name: string,
  options: { test?: string | undefined; version?: string | undefined },
): ArtifactTarget {
  let entries: readonly ArtifactEntry[] = experiment.toRecord().artifacts;
  let folder = joinKey(project.dir, experiment.slug);
  if (options.test !== undefined) {
    const test = experiment.toRecord().tests.find((t) => t.name === options.test);
    if (!test) throw new LabbookError("NOT_FOUND", `Experiment "${experiment.slug}" has no test "${options.test}".`, { path: experiment.location });
    entries = test.artifacts;
    folder = joinKey(folder, slugify(test.name));
  }
  const entry = pickVersion(
    entries.filter((a) => a.name === name),
    options.version,
  );
  if (!entry) {
    const what = options.version === undefined ? `an artifact "${name}"` : `version ${options.version} of artifact "${name}"`;
    throw new LabbookError("NOT_FOUND", `Experiment "${experiment.slug}"${options.test === undefined ? "" : ` test "${options.test}"`} has no ${what}.`, {
      path: experiment.location,
    });
  }
  return { entry, key: joinKey(folder, entry.fname) };
}

function pickVersion(entries: readonly ArtifactEntry[], version: string | undefined): ArtifactEntry | undefined {
  if (version === undefined)
    return entries.reduce<ArtifactEntry | undefined>((best, e) => (best === undefined || e.version > best.version ? e : best), undefined);
  if (!/^\d+$/.test(version)) throw new LabbookError("INVALID_ARGUMENT", `Artifact version must be a whole number, not ${JSON.stringify(version)}.`);
  return entries.find((e) => e.version === Number(version));
}

/** A repository artifact version (the latest when `version` is undefined). */
export function repositoryArtifact(repository: Repository, name: string, version: string | undefined): ArtifactTarget {
  if (!repository.has(name)) throw new LabbookError("NOT_FOUND", `No artifact "${name}" in ${repository.path}.`, { path: repository.path });
  const entry = pickVersion(repository.versions(name), version);
  if (!entry) throw new LabbookError("VERSION_NOT_FOUND", `No version ${version} of "${name}" in ${repository.path}.`, { path: repository.path });
  return { entry, key: joinKey(repository.dir, entry.name, entry.fname) };
}

/** A dependency as the page shows it: linked when its project is one the viewer serves. */
export interface DependencyView {
  raw: string;
  project: string;
  slug: string;
  /** The id of a served project that holds the upstream experiment. */
  link?: string;
}

function describeDependencies(experiment: Experiment, projects: ReadonlyMap<string, Source<Project>>, self: Source<Project>): DependencyView[] {
  return experiment.toRecord().dependencies.map((raw) => {
    let ref: { key: string; slug: string };
    try {
      ref = parseDependency(raw);
    } catch {
      return { raw, project: "", slug: raw };
    }
    const view: DependencyView = { raw, project: ref.key, slug: ref.slug };
    // A registry key names a served project; a path is matched against the served locations.
    const served = projects.get(ref.key) ?? [...projects.values()].find((p) => p.location === ref.key || p.path === ref.key);
    if (served?.value.find(ref.slug)) view.link = served.id;
    else if (ref.key === self.id && self.value.find(ref.slug)) view.link = self.id;
    return view;
  });
}

export interface ArtifactView extends ArtifactEntry {
  test: string | null;
}

/** Everything the experiment page shows. */
export function experimentDetail(source: Source<Project>, slug: string, projects: ReadonlyMap<string, Source<Project>>) {
  const experiment = findExperiment(source.value, slug);
  const record = experiment.toRecord();
  const artifacts: ArtifactView[] = [
    ...record.artifacts.map((a) => ({ ...a, test: null })),
    ...record.tests.flatMap((t) => t.artifacts.map((a) => ({ ...a, test: t.name }))),
  ];
  return {
    generation: source.generation,
    experiment: record as ExperimentRecord,
    location: experiment.location,
    dependencies: describeDependencies(experiment, projects, source),
    artifacts,
  };
}

export interface MetricSeries {
  steps: number[];
  values: number[];
  times: number[];
}

/** The metric-history artifact of an experiment, or undefined when it has none (or it is not one). */
export async function metricHistory(project: Project, experiment: Experiment): Promise<Record<string, MetricSeries> | undefined> {
  if (!experiment.toRecord().artifacts.some((a) => a.name === METRIC_HISTORY_ARTIFACT)) return undefined;
  const target = experimentArtifact(project, experiment, METRIC_HISTORY_ARTIFACT, {});
  if ((target.entry.size ?? 0) > MAX_HISTORY_BYTES) return undefined;
  const bytes = await readSlotBytes(project.storage, target.entry, target.key);
  if (bytes.byteLength > MAX_HISTORY_BYTES) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  const doc = data as { labbook_metric_history?: unknown; metrics?: unknown };
  if (doc === null || typeof doc !== "object" || doc.labbook_metric_history !== 1 || typeof doc.metrics !== "object" || doc.metrics === null) return undefined;
  const out: Record<string, MetricSeries> = {};
  for (const [name, series] of Object.entries(doc.metrics as Record<string, Partial<MetricSeries>>)) {
    if (!Array.isArray(series?.steps) || !Array.isArray(series.values)) continue;
    const n = Math.min(series.steps.length, series.values.length);
    out[name] = { steps: series.steps.slice(0, n), values: series.values.slice(0, n), times: Array.isArray(series.times) ? series.times.slice(0, n) : [] };
  }
  return out;
}

/** The records of the chosen experiments and their metric histories, for the compare page. */
export async function compareExperiments(source: Source<Project>, slugs: string[]) {
  if (slugs.length === 0) throw new LabbookError("INVALID_ARGUMENT", "Compare needs at least one experiment slug (?slugs=a,b).");
  const project = source.value;
  const experiments = slugs.map((s) => findExperiment(project, s));
  const history: Record<string, Record<string, MetricSeries>> = {};
  for (const e of experiments) {
    const series = await metricHistory(project, e);
    if (series) history[e.slug] = series;
  }
  return { generation: source.generation, experiments: experiments.map((e) => e.toRecord()), history };
}

/** Names, every version with expiry, and releases, for the repository page. */
export async function repositoryDetail(source: Source<Repository>) {
  const repo = source.value;
  const releases: Release[] = await repo.releases();
  return {
    generation: source.generation,
    path: repo.path,
    names: repo.names(),
    entries: repo.entries,
    releases: releases.map((r) => ({ tag: r.tag, created_at: r.createdAt, artifacts: r.artifacts })),
  };
}

/** How a stored artifact is sent: its type, and whether the browser may show it inline. */
export function artifactContentType(entry: ArtifactEntry): { type: string; inline: boolean } {
  const ext = entry.fname.toLowerCase().split(".").pop() ?? "";
  switch (ext) {
    case "png":
      return { type: "image/png", inline: true };
    case "jpg":
    case "jpeg":
      return { type: "image/jpeg", inline: true };
    case "json":
      return { type: "application/json; charset=utf-8", inline: true };
    case "csv":
      return { type: "text/csv; charset=utf-8", inline: true };
    case "txt":
    case "md":
    case "log":
    case "yaml":
    case "yml":
      return { type: "text/plain; charset=utf-8", inline: true };
    case "html":
    case "htm":
      // Served under a sandbox CSP (no scripts, an opaque origin): see server.ts.
      return { type: "text/html; charset=utf-8", inline: true };
    default:
      return { type: entry.handler === "text" ? "text/plain; charset=utf-8" : "application/octet-stream", inline: entry.handler === "text" };
  }
}

export { readSlotStream };
