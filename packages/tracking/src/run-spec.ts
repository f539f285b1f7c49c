/**
 * What one labbook experiment (or test) becomes in a tracking server, independent of the server:
 * flattened parameters, metric series, tags, artifacts, and a fingerprint that changes whenever
 * anything exported changes.
 */
import { createHash } from "node:crypto";
import { type Experiment, LabbookError, METRIC_HISTORY_ARTIFACT, slugify, stringifyPyJson, type Test } from "@labbook/core";

/** Bumped when the exporters send something different for the same experiment. */
const EXPORT_SHAPE = 1;

export interface SeriesSpec {
  steps: number[];
  values: number[];
  /** epoch ms */
  times: number[];
  /** False for a metric logged without a step (a single point at step 0, `metrics[name]`). */
  stepped: boolean;
}

export interface ArtifactSpec {
  name: string;
  /** Path inside the run's artifacts (the labbook fname). */
  path: string;
  size: number | undefined;
  sha256: string | undefined;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

export interface RunSpec {
  /** Finds the run again on the next export: the experiment slug, or `<slug>/<slug of test name>`. */
  key: string;
  name: string;
  startTime: number;
  endTime: number;
  author: string;
  params: Record<string, string>;
  /** The parameters as logged (nested, typed), for backends that keep them so (W&B's config). */
  rawParams: Readonly<Record<string, unknown>>;
  metrics: Record<string, SeriesSpec>;
  /** Tags to set on the run (key → value). */
  tags: Record<string, string>;
  labbookTags: string[];
  artifacts: ArtifactSpec[];
  tests: RunSpec[];
  fingerprint: string;
  description?: string | null | undefined;
}

/** A parameter value as text: strings as they are, everything else as JSON. */
function paramText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return stringifyPyJson(value);
}

/** `{ optimizer: { lr: 0.1 } }` → `{ "optimizer.lr": "0.1" }`; arrays stay whole (as JSON). */
export function flattenParameters(parameters: Readonly<Record<string, unknown>>, prefix = "", into: Record<string, string> = {}): Record<string, string> {
  for (const [key, value] of Object.entries(parameters)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
      flattenParameters(value as Record<string, unknown>, name, into);
    } else {
      into[name] = paramText(value);
    }
  }
  return into;
}

function ms(date: Date): number {
  return date.getTime();
}

async function seriesOf(owner: Experiment | Test, fallbackTime: number): Promise<Record<string, SeriesSpec>> {
  const histories = await owner.metricHistories();
  const out: Record<string, SeriesSpec> = {};
  for (const [name, value] of Object.entries(owner.metrics)) {
    const h = histories[name];
    out[name] =
      h && h.steps.length > 0
        ? { steps: h.steps, values: h.values, times: h.times, stepped: true }
        : { steps: [0], values: [value], times: [fallbackTime], stepped: false };
  }
  // A history whose metric is no longer in `metrics` is still exported.
  for (const [name, h] of Object.entries(histories)) out[name] ??= { steps: h.steps, values: h.values, times: h.times, stepped: true };
  return out;
}

/** The artifacts to send; the metric history goes as metrics, not as a file. */
function artifactsOf(owner: Experiment | Test): ArtifactSpec[] {
  return owner.artifacts
    .filter((entry) => entry.name !== METRIC_HISTORY_ARTIFACT)
    .map((entry) => ({
      name: entry.name,
      path: entry.fname,
      size: entry.size,
      sha256: entry.sha256,
      open: () => owner.openArtifactStream(entry.name),
    }));
}

function fingerprint(record: unknown, extra: string): string {
  return createHash("sha256").update(`labbook-export/${EXPORT_SHAPE}\n${extra}\n`).update(stringifyPyJson(record)).digest("hex");
}

/** The run spec of an experiment and its tests (reads the metric histories now). */
export async function runSpecOf(exp: Experiment, projectLocation: string): Promise<RunSpec> {
  const start = ms(exp.createdAt);
  const end = ms(exp.lastUpdated);
  const tags: Record<string, string> = {
    "labbook.slug": exp.slug,
    "labbook.author": exp.author,
    "labbook.project": projectLocation,
    "labbook.created_at": exp.toRecord().created_at,
    "labbook.last_updated": exp.toRecord().last_updated,
    "mlflow.user": exp.author,
  };
  if (exp.tags.length > 0) tags["labbook.tags"] = exp.tags.join(", ");
  if (exp.dependencies.length > 0) tags["labbook.dependencies"] = exp.dependencies.join("\n");
  const tests: RunSpec[] = [];
  for (const test of exp.tests) {
    const key = `${exp.slug}/${slugify(test.name)}`;
    tests.push({
      key,
      name: test.name,
      startTime: start,
      endTime: end,
      author: exp.author,
      params: flattenParameters(test.parameters),
      rawParams: test.parameters,
      metrics: await seriesOf(test, end),
      tags: { "labbook.slug": key, "labbook.test": test.name, "labbook.experiment": exp.slug, "mlflow.user": exp.author },
      labbookTags: [],
      artifacts: artifactsOf(test),
      tests: [],
      fingerprint: fingerprint(test.toRecord(), `${projectLocation}\n${key}`),
      description: test.description,
    });
  }
  return {
    key: exp.slug,
    name: exp.name,
    startTime: start,
    endTime: end,
    author: exp.author,
    params: flattenParameters(exp.parameters),
    rawParams: exp.parameters,
    metrics: await seriesOf(exp, end),
    tags,
    labbookTags: [...exp.tags],
    artifacts: artifactsOf(exp),
    tests,
    fingerprint: fingerprint(exp.toRecord(), `${projectLocation}\n${exp.slug}`),
  };
}

/** INVALID_ARGUMENT naming every key over `limit` characters, before anything is sent. */
export function assertKeyLengths(spec: RunSpec, limit: number, service: string): void {
  const long: string[] = [];
  const check = (s: RunSpec) => {
    for (const k of [...Object.keys(s.params), ...Object.keys(s.metrics), ...Object.keys(s.tags)]) if (k.length > limit) long.push(k);
    for (const t of s.tests) check(t);
  };
  check(spec);
  if (long.length > 0) {
    throw new LabbookError(
      "INVALID_ARGUMENT",
      `Experiment "${spec.key}" has ${long.length} parameter, metric or tag name(s) longer than ${service}'s ${limit} characters (${long
        .map((k) => JSON.stringify(`${k.slice(0, 40)}…`))
        .join(", ")}); shorten them. Nothing was sent.`,
    );
  }
}
