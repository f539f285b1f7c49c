import {
  type Experiment,
  type ExperimentRecord,
  isLabbookError,
  type JsonValue,
  LabbookError,
  type Project,
  parsePyJson,
  type ReadonlyExperimentRecord,
  stringifyPyJson,
} from "@labbook/core";
import { validateFile } from "@labbook/core/internal";
import { experimentRecordSchema } from "@labbook/core/schemas";

/**
 * The engine-neutral part: a run is one experiment executed by some worker (a BullMQ job, a
 * Temporal activity, a message of a plain queue). Its identity is a stable id from the engine (for
 * BullMQ: queue, job id and the job's creation time), kept as a tag, so every attempt of the run
 * is the same experiment; its slug's timestamp is the time of its first attempt.
 */
export interface RunIdentity {
  /** Stable across attempts and unique per run, e.g. `bullmq/<queue>/<job id>/<created ms>`. */
  readonly id: string;
  /** The experiment's name. */
  readonly name: string;
  /** When the run's first attempt started: the experiment's created_at and slug timestamp. */
  readonly firstAttemptAt: Date;
  /** Extra tags (e.g. the queue and job id). */
  readonly tags?: readonly string[] | undefined;
}

/** The prefix of the tag that carries a run's identity. */
export const RUN_TAG = "labbook-run:";

/** The tag that carries a run's identity; `appendRecord({ once })` keys on it. */
export function runTag(id: string): string {
  return `${RUN_TAG}${id}`;
}

/** An experiment serialised by a worker, to be appended by a collector (plain JSON, safe in any queue). */
export interface SerializedExperiment {
  readonly labbook_serialized_experiment: 1;
  /** The run's stable id. */
  readonly run: string;
  /** The experiment's slug. */
  readonly slug: string;
  /** The experiment record as lazyscribe-compatible JSON text (so 1.0 stays 1.0 on the way). */
  readonly record: string;
}

/** The parameters a run's input must be: a plain JSON object. INVALID_ARGUMENT (naming `where`) otherwise. */
export function assertParameters(data: unknown, where: string): Record<string, JsonValue> {
  const isPlain = typeof data === "object" && data !== null && !Array.isArray(data) && Object.getPrototypeOf(data) === Object.prototype;
  if (!isPlain) {
    throw new LabbookError(
      "INVALID_ARGUMENT",
      `${where}: the job data must be a plain object of parameters, not ${data === null ? "null" : Array.isArray(data) ? "an array" : typeof data}. Nothing was run; add the job again with an object.`,
      { path: where },
    );
  }
  try {
    // Parameters are stored as JSON: refuse what JSON cannot hold now rather than at save.
    stringifyPyJson(data as JsonValue);
  } catch (cause) {
    throw new LabbookError("INVALID_ARGUMENT", `${where}: the job data is not JSON parameters (${(cause as Error).message}). Nothing was run.`, {
      path: where,
      cause,
    });
  }
  return data as Record<string, JsonValue>;
}

/** The stored experiment of a run, if a collector already appended it to `project`. */
export function findRun(project: Project, id: string): Experiment | undefined {
  const tag = runTag(id);
  return project.experiments.find((e) => e.tags.includes(tag));
}

/**
 * Run `fn` as the experiment of `run`, in `project`'s storage, without touching its index: the
 * parameters are logged first, then `fn` logs metrics, tests and artifacts (files are written now,
 * never over another file). Returns the serialised experiment for a collector; nothing is kept if
 * `fn` throws.
 */
export async function logRun(
  project: Project,
  run: RunIdentity,
  parameters: Readonly<Record<string, JsonValue>>,
  fn: (experiment: Experiment) => void | Promise<void>,
): Promise<SerializedExperiment> {
  const record = await project.logDetached(
    run.name,
    async (experiment) => {
      for (const [name, value] of Object.entries(parameters)) experiment.logParameter(name, value);
      experiment.tag(runTag(run.id), ...(run.tags ?? []));
      await fn(experiment);
    },
    { createdAt: run.firstAttemptAt },
  );
  return serializeExperiment(run.id, record);
}

/** Wrap a record (for example a stored one) as a serialised experiment. */
export function serializeExperiment(run: string, record: ReadonlyExperimentRecord): SerializedExperiment {
  return { labbook_serialized_experiment: 1, run, slug: record.slug, record: stringifyPyJson(record, { sortKeys: true }) };
}

/** True when `value` looks like a serialised experiment (it may still be invalid). */
export function isSerializedExperiment(value: unknown): value is SerializedExperiment {
  return typeof value === "object" && value !== null && (value as { labbook_serialized_experiment?: unknown }).labbook_serialized_experiment === 1;
}

/** The record inside a serialised experiment; INVALID_FORMAT naming `where` when it is not one. */
export function parseSerializedExperiment(value: unknown, where: string): { run: string; record: ExperimentRecord } {
  if (!isSerializedExperiment(value) || typeof value.run !== "string" || typeof value.record !== "string") {
    throw new LabbookError("INVALID_FORMAT", `${where} is not a serialised labbook experiment (from logRun); nothing was appended.`, { path: where });
  }
  return { run: value.run, record: validateFile(experimentRecordSchema, parsePyJson(value.record, where), where) };
}

/** What a collector did. */
export interface CollectResult {
  /** The experiments of the project for these runs, in the order given (appended now or earlier). */
  readonly experiments: readonly Experiment[];
  /** How many this call appended (the others were in the project already; a run two collectors append at once is stored once all the same). */
  readonly appended: number;
}

export interface CollectOptions {
  /** How many times to save again when other writers keep winning the commit (default 5). */
  saveAttempts?: number | undefined;
}

/**
 * The collector: append serialised experiments to `project`, each exactly once (a run already in
 * the project, or committed meanwhile by another collector, is not added again), and save once.
 * After it resolves, every one of them is stored; if it throws, call it again: nothing is doubled.
 */
export async function collect(project: Project, serialized: readonly SerializedExperiment[], options: CollectOptions = {}): Promise<CollectResult> {
  const runs: string[] = [];
  const added = new Set<string>();
  // Check them all before appending any, so bad input appends nothing.
  const parsed = serialized.map((item, i) => parseSerializedExperiment(item, `experiment ${i + 1} of ${serialized.length}`));
  for (const { run, record } of parsed) {
    const before = project.size;
    project.appendRecord(record, { once: runTag(run) });
    if (project.size > before) added.add(run);
    runs.push(run);
  }
  await saveWithRetries(project, options.saveAttempts ?? 5);
  // After the save another collector's copy may stand in for ours: look each one up in what is stored.
  const experiments = runs.map((run) => findRun(project, run)).filter((e): e is Experiment => e !== undefined);
  return { experiments, appended: added.size };
}

/** project.save(), again on CONFLICT (many writers at once): a failed save commits nothing, so retrying is safe. */
export async function saveWithRetries(project: Project, attempts: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await project.save();
      return;
    } catch (error) {
      if (!isLabbookError(error, "CONFLICT") || attempt >= attempts) throw error;
    }
  }
}
