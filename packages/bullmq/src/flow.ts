import { type Experiment, isLabbookError, type JsonValue, LabbookError } from "@labbook/core";
import type { FlowChildJob, FlowProducer, Job, JobNode, JobsOptions } from "bullmq";
import { firstAttemptAt } from "./first-attempt.js";
import type { LabbookProcessorOptions } from "./options.js";
import {
  assertParameters,
  collect,
  findRun,
  logRun,
  parseSerializedExperiment,
  RUN_TAG,
  runTag,
  type SerializedExperiment,
  serializeExperiment,
} from "./run.js";

/** The key of a flow parent's job data; the processor collects instead of running your function. */
export const FLOW_MARKER = "labbook_flow";

export interface FlowChild {
  /** Job (and experiment) name. */
  name: string;
  /** The parameters: a plain JSON object. */
  data: Record<string, JsonValue>;
  /** BullMQ job options (attempts, backoff, ...); the failure options are set by the flow. */
  opts?: Omit<JobsOptions, "parent" | "failParentOnFailure" | "ignoreDependencyOnFailure" | "continueParentOnFailure"> | undefined;
}

export interface ExperimentFlowOptions {
  /** The parent job's name, and the name of the flow's own experiment (its summary). */
  name: string;
  /** The queue of the parent and, unless a child says otherwise, of the children. */
  queueName: string;
  children: readonly FlowChild[];
  /** The summary's best experiment: the child with the highest (mode "max", default) or lowest value of this metric. */
  best?: { metric: string; mode?: "max" | "min" | undefined } | undefined;
  /**
   * true: the parent fails as soon as a child has failed for good (BullMQ's failParentOnFailure).
   * false (default): the parent still runs, appends the children that succeeded and records the
   * failed ones (tags `failed-child:<job id>` and a test "failed children" with each reason).
   */
  failParentOnFailure?: boolean | undefined;
  /** BullMQ options of the parent job. */
  opts?: Omit<JobsOptions, "parent"> | undefined;
}

interface FlowParentData {
  [FLOW_MARKER]: { best: { metric: string; mode: "max" | "min" } | null; children: number };
}

/** What a flow's parent job returns. */
export interface FlowSummary {
  readonly run: string;
  /** The flow's own experiment. */
  readonly slug: string;
  /** Children whose experiments are in the project. */
  readonly succeeded: number;
  /** Children that failed for good: job key → reason. */
  readonly failed: Readonly<Record<string, string>>;
  /** The best child by `best.metric`, when asked for and any child has it. */
  readonly best: { run: string; slug: string; name: string; metric: string; value: number } | null;
}

export function isFlowParentData(data: unknown): data is FlowParentData {
  return typeof data === "object" && data !== null && FLOW_MARKER in data;
}

/**
 * Add a flow to `producer`: one child job per experiment and a parent job that runs after all of
 * them, appends their experiments and its own summary experiment to the project and saves once.
 * Process both with `labbookProcessor` on `queueName`.
 *
 * @example
 * await addExperimentFlow(new FlowProducer({ connection }), {
 *   name: "sweep", queueName: "experiments", best: { metric: "auc" },
 *   children: [0.1, 0.01].map((lr) => ({ name: "train", data: { lr } })),
 * });
 */
export async function addExperimentFlow(producer: FlowProducer, options: ExperimentFlowOptions): Promise<JobNode> {
  if (options.children.length === 0) throw new LabbookError("INVALID_ARGUMENT", `Flow "${options.name}" has no children: give at least one.`);
  options.children.forEach((child, i) => {
    assertParameters(child.data, `child ${i + 1} (${child.name}) of flow "${options.name}"`);
  });
  const failParent = options.failParentOnFailure ?? false;
  const data: FlowParentData = {
    [FLOW_MARKER]: { best: options.best ? { metric: options.best.metric, mode: options.best.mode ?? "max" } : null, children: options.children.length },
  };
  const children: FlowChildJob[] = options.children.map((child) => ({
    name: child.name,
    queueName: options.queueName,
    data: child.data,
    opts: { ...child.opts, ...(failParent ? { failParentOnFailure: true } : { ignoreDependencyOnFailure: true }) },
  }));
  return producer.add({ name: options.name, queueName: options.queueName, data, ...(options.opts ? { opts: options.opts } : {}), children });
}

function bestOf(experiments: readonly Experiment[], best: FlowParentData[typeof FLOW_MARKER]["best"]): FlowSummary["best"] {
  if (!best) return null;
  let found: FlowSummary["best"] = null;
  for (const e of experiments) {
    const value = e.metrics[best.metric];
    if (typeof value !== "number" || Number.isNaN(value)) continue;
    if (found && (best.mode === "max" ? value <= found.value : value >= found.value)) continue;
    // Slugs can repeat (same name, same second): the run id names the experiment for sure.
    const run = e.tags.find((t) => t.startsWith(RUN_TAG))?.slice(RUN_TAG.length) ?? "";
    found = { run, slug: e.slug, name: e.name, metric: best.metric, value };
  }
  return found;
}

/** The parent's side of a flow: append every child's experiment and a summary experiment, save once. */
export async function collectFlow(job: Job, options: LabbookProcessorOptions): Promise<FlowSummary> {
  const spec = (job.data as FlowParentData)[FLOW_MARKER];
  const values = await job.getChildrenValues<unknown>();
  const failed = await job.getIgnoredChildrenFailures();
  const serialized: SerializedExperiment[] = [];
  for (const [key, value] of Object.entries(values)) {
    const experiment = (value as { experiment?: unknown } | null)?.experiment;
    try {
      parseSerializedExperiment(experiment, `the result of child ${key}`);
    } catch (cause) {
      if (!isLabbookError(cause, "INVALID_FORMAT")) throw cause;
      throw new LabbookError("INVALID_FORMAT", `${cause.message} Process the flow's children with labbookProcessor.`, { path: key, cause });
    }
    serialized.push(experiment as SerializedExperiment);
  }
  const run = { id: `bullmq/${job.queueName}/${job.id}/${job.timestamp}`, name: job.name, firstAttemptAt: await firstAttemptAt(job) };
  const project = await options.project();
  const children = serialized.map((s) => s.run);
  const done = findRun(project, run.id);
  const own =
    done !== undefined
      ? serializeExperiment(run.id, done.toRecord())
      : await logRun(project, { ...run, tags: [`bullmq-queue:${job.queueName}`, `bullmq-job:${job.id}`, "labbook-flow"] }, {}, async (exp) => {
          exp.logParameter("children", spec.children);
          if (spec.best) exp.logParameter("best_metric", spec.best.metric);
          exp.logMetric("succeeded", serialized.length);
          exp.logMetric("failed", Object.keys(failed).length);
          const keys = Object.keys(failed).sort();
          if (keys.length > 0) {
            exp.tag(...keys.map((key) => `failed-child:${key.split(":").at(-1)}`));
            await exp.logTest("failed children", { description: "children of this flow that failed for good, with the reason" }, (test) => {
              for (const key of keys) test.logParameter(key, failed[key] ?? "");
            });
          }
        });
  const result = await collect(project, [...serialized, own], { saveAttempts: options.saveAttempts });
  const childExperiments = result.experiments.filter((e) => children.some((id) => e.tags.includes(runTag(id))));
  const best = bestOf(childExperiments, spec.best);
  return { run: run.id, slug: own.slug, succeeded: childExperiments.length, failed, best };
}
