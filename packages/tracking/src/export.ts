import { type Experiment, LabbookError, type Project } from "@labbook/core";
import type { MlflowExportOptions } from "./mlflow/export.js";
import type { WandbExportOptions } from "./wandb/export.js";

/** The tracking servers labbook exports to. */
export const TRACKING_BACKENDS = ["mlflow", "wandb"] as const;
export type TrackingBackend = (typeof TRACKING_BACKENDS)[number];

export interface ExportProgress {
  done: number;
  total: number;
  slug: string;
  action: RunResult["action"];
}

/** Options every backend takes. */
export interface ExportOptions {
  /** Only these experiments (default: all of the project). */
  filter?: ((experiment: Experiment) => boolean) | undefined;
  /** Work out what would be sent (created, updated, unchanged) without sending anything. */
  dryRun?: boolean | undefined;
  /** Called after each run. */
  onProgress?: ((progress: ExportProgress) => void) | undefined;
  /** Runs sent at once (default 4). */
  concurrency?: number | undefined;
}

/** What happened to one experiment (or test). */
export interface RunResult {
  slug: string;
  action: "created" | "updated" | "unchanged";
  runId: string;
  metricsSent: number;
  paramsSent: number;
  artifactsSent: number;
  /** Things the export did differently from a plain copy (a long value sent as an artifact, a parameter MLflow cannot change). */
  notes: string[];
  tests?: RunResult[];
}

export interface ExportSummary {
  backend: TrackingBackend;
  /** Where the runs went, for people. */
  target: string;
  dryRun: boolean;
  created: number;
  updated: number;
  unchanged: number;
  runs: RunResult[];
}

export type ExportToOptions = ({ backend: "mlflow" } & MlflowExportOptions) | ({ backend: "wandb" } & WandbExportOptions);

/** INVALID_ARGUMENT for a backend labbook does not know, before anything is loaded. */
export function assertBackend(backend: unknown): asserts backend is TrackingBackend {
  if (!TRACKING_BACKENDS.includes(backend as TrackingBackend)) {
    throw new LabbookError("INVALID_ARGUMENT", `Unknown tracking backend ${JSON.stringify(backend)}: use one of ${TRACKING_BACKENDS.join(", ")}.`);
  }
}

/**
 * Export a project's experiments to MLflow or W&B: one run per experiment (tests as nested runs),
 * found again by a tag on the next export, so running it twice updates instead of duplicating.
 * The backend's code is loaded only now.
 *
 * @example
 * const summary = await exportProject(project, { backend: "mlflow", trackingUri: "http://127.0.0.1:5000", experimentName: "churn" });
 */
export async function exportProject(project: Project, options: ExportToOptions): Promise<ExportSummary> {
  assertBackend(options.backend);
  const experiments = project.experiments.filter((e) => options.filter?.(e) ?? true);
  if (options.backend === "mlflow") {
    const { exportToMlflow } = await import("./mlflow/export.js");
    return exportToMlflow(project, experiments, options);
  }
  const { exportToWandb } = await import("./wandb/export.js");
  return exportToWandb(project, experiments, options);
}

/** Export one experiment of its project (see exportProject). */
export async function exportExperiment(experiment: Experiment, options: ExportToOptions): Promise<ExportSummary> {
  // `owner` is typed narrowly (what an experiment needs of its project); it is the Project that logged or loaded it.
  const project = experiment.owner as Project | undefined;
  if (!project) throw new LabbookError("INVALID_ARGUMENT", `Experiment "${experiment.slug}" belongs to no project; log it with project.log() first.`);
  return exportProject(project, { ...options, filter: (e) => e === experiment });
}
