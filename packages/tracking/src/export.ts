import { type Experiment, LabbookError, type Project } from "@labbook/core";
import { assertBackend } from "./backend.js";
import type { ExportSummary } from "./export-types.js";
import type { MlflowExportOptions } from "./mlflow/export.js";
import type { WandbExportOptions } from "./wandb/export.js";

export type ExportToOptions = ({ backend: "mlflow" } & MlflowExportOptions) | ({ backend: "wandb" } & WandbExportOptions);

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
