import type { Experiment, JsonValue, Project } from "@labbook/core";
import { isLabbookError, LabbookError } from "@labbook/core";
import type { Job } from "bullmq";
import { firstAttemptAt } from "./first-attempt.js";
import { collectFlow, type FlowSummary, isFlowParentData } from "./flow.js";
import type { LabbookProcessorOptions } from "./options.js";
import { assertParameters, collect, findRun, logRun, type RunIdentity, type SerializedExperiment, serializeExperiment } from "./run.js";

/** What a job processed by labbookProcessor returns (its BullMQ return value). */
export interface LabbookJobResult<R = unknown> {
  /** The run's stable id (also the experiment's `labbook-run:` tag). */
  readonly run: string;
  readonly slug: string;
  /** What your function returned; null when an earlier attempt had already stored the experiment (nothing ran again). */
  readonly value: R | null;
  /** True once the experiment is in the project (false for a flow child, whose parent appends it). */
  readonly stored: boolean;
  /** A flow child's experiment, for its parent to append. */
  readonly experiment?: SerializedExperiment;
}

/** The stable id of a job's run: queue, job id and the job's creation time (ids restart when a queue is wiped). */
export function jobRunId(job: Job): string {
  return `bullmq/${job.queueName}/${job.id}/${job.timestamp}`;
}

function where(job: Job): string {
  return `job ${job.id} (${job.name}) of queue ${job.queueName}`;
}

/** job.updateProgress(...) also logs the progress into the experiment: a number as metric "progress", an object's numbers as "progress.<key>". */
function mirrorProgress(job: Job, experiment: Experiment): () => void {
  const original = job.updateProgress;
  job.updateProgress = async function (this: Job, progress: Parameters<Job["updateProgress"]>[0]) {
    if (typeof progress === "number" && Number.isFinite(progress)) experiment.logMetric("progress", progress);
    else if (typeof progress === "object" && progress !== null) {
      for (const [key, value] of Object.entries(progress))
        if (typeof value === "number" && Number.isFinite(value)) experiment.logMetric(`progress.${key}`, value);
    }
    return original.call(this, progress);
  };
  return () => {
    job.updateProgress = original;
  };
}

/**
 * Appends of jobs that finish while a save runs wait and go into the next save together: one
 * writer per worker process instead of one per running job, so fewer commits race.
 */
class Committer {
  readonly #waiting: Array<{ item: SerializedExperiment; resolve: (experiment: Experiment | undefined) => void; reject: (error: unknown) => void }> = [];
  #busy = false;

  constructor(readonly options: LabbookProcessorOptions) {}

  append(item: SerializedExperiment): Promise<Experiment | undefined> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#busy) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#busy = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0);
      try {
        // A fresh copy of the project for every save: nothing of a failed save lingers into the next.
        const project = await this.options.project();
        await collect(
          project,
          batch.map((b) => b.item),
          { saveAttempts: this.options.saveAttempts },
        );
        for (const b of batch) b.resolve(findRun(project, b.item.run));
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.#busy = false;
  }
}

async function refuse(job: Job, error: LabbookError): Promise<never> {
  // Bad data stays bad: no retry. (discard() is BullMQ 5's way to say so for an error of our own class.)
  job.discard();
  throw error;
}

/**
 * Wrap a function into a BullMQ processor whose jobs each run inside one labbook experiment:
 * parameters from the job data, whatever `fn` logs, and the tags `bullmq-queue:<queue>`,
 * `bullmq-job:<id>` and `labbook-run:<id>`. The experiment is appended and saved when the job
 * completes, never when it fails; a retried job (another attempt, another worker) never makes a
 * second experiment, and one whose experiment an earlier attempt already stored is not run again.
 * A job with a parent (a child of `addExperimentFlow`) only returns its experiment, for the parent
 * to append; the flow's parent job, processed by the same processor, appends them and saves once.
 *
 * @example
 * new Worker("experiments", labbookProcessor(async (exp, job) => { exp.logMetric("auc", await train(job.data)) },
 *   { project: () => openProject("./runs") }), { connection });
 */
export function labbookProcessor<R = unknown>(
  fn: (experiment: Experiment, job: Job) => R | Promise<R>,
  options: LabbookProcessorOptions,
): (job: Job) => Promise<LabbookJobResult<R> | FlowSummary> {
  const committer = new Committer(options);
  // One copy of the project per processor writes the files of new experiments (it never saves, so
  // its index may be old); appends go through the committer, which opens a fresh copy per save.
  let opened: Promise<Project> | undefined;
  const logger = () => {
    opened ??= Promise.resolve(options.project()).catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  return async (job: Job) => {
    if (isFlowParentData(job.data)) return collectFlow(job, options);
    let parameters: Record<string, JsonValue>;
    try {
      parameters = options.parameters ? options.parameters(job.data) : assertParameters(job.data, where(job));
      if (options.parameters) assertParameters(parameters, where(job));
    } catch (cause) {
      if (isLabbookError(cause)) return refuse(job, cause);
      return refuse(
        job,
        new LabbookError("INVALID_ARGUMENT", `${where(job)}: the job data are not valid parameters: ${(cause as Error).message}. Nothing was run.`, {
          path: where(job),
          cause,
        }),
      );
    }
    const run: RunIdentity = {
      id: jobRunId(job),
      name: typeof options.name === "function" ? options.name(job) : (options.name ?? job.name),
      firstAttemptAt: await firstAttemptAt(job),
      tags: [`bullmq-queue:${job.queueName}`, `bullmq-job:${job.id}`],
    };
    const child = job.parent !== undefined;
    // Only a job started before can have been stored already (then lost touch with Redis before it
    // completed); a first start skips reading the index.
    const stored = job.attemptsStarted > 1 || job.attemptsMade > 0 ? findRun(await options.project(), run.id) : undefined;
    if (stored) {
      // An earlier attempt stored it and then lost touch with Redis before the job completed.
      return { run: run.id, slug: stored.slug, value: null, stored: true, ...(child ? { experiment: serializeExperiment(run.id, stored.toRecord()) } : {}) };
    }
    let value: R | undefined;
    const serialized = await logRun(await logger(), run, parameters, async (experiment) => {
      const restore = mirrorProgress(job, experiment);
      try {
        value = await fn(experiment, job);
      } finally {
        restore();
      }
    });
    const result = { run: run.id, value: value ?? null };
    if (child) return { ...result, slug: serialized.slug, stored: false, experiment: serialized };
    const appended = await committer.append(serialized);
    return { ...result, slug: appended?.slug ?? serialized.slug, stored: true };
  };
}
