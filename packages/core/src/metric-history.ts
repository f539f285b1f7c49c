/**
 * A metric's history by step: labbook's addition to lazyscribe's format. `metrics[name]` keeps the
 * latest value as lazyscribe stores it; the series lives in a json artifact named `metric-history`
 * of the experiment (or test), which Python lazyscribe loads as plain json:
 *
 * `{"labbook_metric_history": 1, "metrics": {"<name>": {"steps": [...], "values": [...], "times": [<epoch ms>...]}}}`
 */
import type { z } from "zod";
import { type ArtifactCollection, type ArtifactContext, createSlot } from "./artifacts/collection.js";
import { LabbookError } from "./errors.js";
import type { metricHistoryFileSchema, seriesSchema } from "./metric-history-schema.js";

/** The name of the artifact holding the metric histories of an experiment or a test. */
export const METRIC_HISTORY_ARTIFACT = "metric-history";
/** Its file name (a `-1`, `-2`… variant when taken, as for any artifact). */
export const METRIC_HISTORY_FNAME = "metric-history.json";

// The types only: the schema (and zod) is imported when a stored history is read.
export type MetricHistoryFile = z.infer<typeof metricHistoryFileSchema>;
export type MetricSeries = z.infer<typeof seriesSchema>;

/** One logged point of a metric. */
export interface MetricPoint {
  step: number;
  value: number;
  time: Date;
}

export interface LogMetricOptions {
  /** The step (an integer) this value belongs to; with it the value joins the metric's history. */
  step?: number | undefined;
  /** When the value was measured (default: now), kept in the history in epoch milliseconds. */
  time?: Date | number | undefined;
}

/** What a history needs from the experiment or test that owns it. */
export interface MetricHistoryHost {
  readonly context: ArtifactContext;
  artifacts(): ArtifactCollection;
  /** Store the artifacts array in the owner's record (after a slot was added or replaced). */
  setEntries(entries: ReturnType<ArtifactCollection["entries"]>): void;
  readonly label: string;
  now(): Date;
}

function emptyFile(): MetricHistoryFile {
  return { labbook_metric_history: 1, metrics: {} };
}

/** The step and time of a logMetric call with a step; INVALID_ARGUMENT when they are not usable. */
export function checkStep(name: string, options: LogMetricOptions): { step: number; time: number } | undefined {
  if (options.step === undefined) return undefined;
  const { step } = options;
  if (typeof step !== "number" || !Number.isSafeInteger(step)) {
    throw new LabbookError("INVALID_ARGUMENT", `Metric "${name}": step must be an integer, not ${JSON.stringify(step) ?? String(step)}.`);
  }
  const raw = options.time === undefined ? Date.now() : options.time instanceof Date ? options.time.getTime() : options.time;
  if (typeof raw !== "number" || !Number.isFinite(raw)) {
    throw new LabbookError("INVALID_ARGUMENT", `Metric "${name}": time must be a Date or epoch milliseconds.`);
  }
  return { step, time: raw };
}

/**
 * The histories of one experiment or test. Appending is O(1): points are kept in memory and the
 * artifact is rewritten once per save, merged with what was stored (read then, never on open).
 */
export class MetricHistory {
  /** The stored file, once read (or known to be absent). */
  #stored: MetricHistoryFile | undefined;
  /** Points appended since the last save. */
  #appended: MetricHistoryFile | undefined;

  constructor(private readonly host: MetricHistoryHost) {}

  append(name: string, value: number, step: number, time: number): void {
    this.#appended ??= emptyFile();
    let series = this.#appended.metrics[name];
    if (!series) {
      series = { steps: [], values: [], times: [] };
      this.#appended.metrics[name] = series;
    }
    series.steps.push(step);
    series.values.push(value);
    series.times.push(time);
  }

  /** True when points wait to be written. */
  get pending(): boolean {
    return this.#appended !== undefined;
  }

  /** The stored file (read now, once), or an empty one when the owner has none. */
  async #readStored(): Promise<MetricHistoryFile> {
    if (this.#stored) return this.#stored;
    const set = this.host.artifacts();
    const slot = set.find(METRIC_HISTORY_ARTIFACT);
    if (!slot) return emptyFile();
    const raw = await set.load(this.host.context, METRIC_HISTORY_ARTIFACT, this.host.label);
    const { metricHistoryFileSchema } = await import("./metric-history-schema.js");
    const parsed = metricHistoryFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new LabbookError(
        "INVALID_FORMAT",
        `The "${METRIC_HISTORY_ARTIFACT}" artifact of ${this.host.label} is not a labbook metric history (${parsed.error.issues[0]?.message ?? "bad shape"} at ${parsed.error.issues[0]?.path.join(".") ?? "?"}). The name is labbook's; rename that artifact to log histories here.`,
      );
    }
    for (const [metric, s] of Object.entries(parsed.data.metrics)) {
      if (s.steps.length !== s.values.length || s.steps.length !== s.times.length) {
        throw new LabbookError("INVALID_FORMAT", `The history of metric "${metric}" of ${this.host.label} has columns of different lengths.`);
      }
    }
    this.#stored = parsed.data;
    return parsed.data;
  }

  /** The whole file as it is now: stored points, then the ones appended since. */
  async #current(): Promise<MetricHistoryFile> {
    const stored = await this.#readStored();
    const appended = this.#appended;
    if (!appended) return stored;
    const merged: MetricHistoryFile = { ...stored, metrics: { ...stored.metrics } };
    for (const [name, s] of Object.entries(appended.metrics)) {
      const before = stored.metrics[name];
      merged.metrics[name] = before
        ? { ...before, steps: before.steps.concat(s.steps), values: before.values.concat(s.values), times: before.times.concat(s.times) }
        : { steps: [...s.steps], values: [...s.values], times: [...s.times] };
    }
    return merged;
  }

  /** The series of `name`, oldest first; empty when the metric has no history. */
  async series(name: string): Promise<MetricPoint[]> {
    const s = (await this.#current()).metrics[name];
    if (!s) return [];
    return s.steps.map((step, i) => ({ step, value: s.values[i] as number, time: new Date(s.times[i] as number) }));
  }

  /** Every metric's series, columnar, as the artifact stores it. */
  async all(): Promise<MetricHistoryFile> {
    return this.#current();
  }

  /** Before a save: put the merged file in the artifact slot (only when points were appended). */
  async prepareSave(): Promise<void> {
    if (!this.#appended) return;
    const merged = await this.#current();
    const set = this.host.artifacts();
    const previous = set.find(METRIC_HISTORY_ARTIFACT);
    const slot = createSlot(this.host.context.handlers.forLog("json", METRIC_HISTORY_ARTIFACT), METRIC_HISTORY_ARTIFACT, merged, this.host.now(), {
      fname: previous?.entry.fname ?? METRIC_HISTORY_FNAME,
    });
    this.host.setEntries(set.add(slot, true, this.host.label));
    this.#stored = merged;
    this.#appended = undefined;
  }
}
