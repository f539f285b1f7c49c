import type { Repository } from "@labbook/repository";
import { assertBackend, type TrackingBackend } from "./backend.js";
import type { MlflowRevisionOptions } from "./mlflow/revision.js";
import { provenanceBundle } from "./provenance.js";
import type { LoggedRevision } from "./revision-types.js";
import type { WandbOptions } from "./wandb/client.js";

export type LogRevisionOptions = ({ backend: "mlflow" } & MlflowRevisionOptions) | ({ backend: "wandb" } & WandbOptions);

/**
 * Log a repository revision (a release tag, or a date resolved as of) with its provenance bundle to
 * MLflow or W&B; returns its id `"labbook-revision:<revision>"`. The backend is checked before
 * anything is read, and its code is loaded only now.
 *
 * @example
 * const { id, bundle } = await logRevision(repo, "v1.0.0", { backend: "mlflow", trackingUri: "http://127.0.0.1:5000" })
 */
export async function logRevision(repository: Repository, revision: string | Date, options: LogRevisionOptions): Promise<LoggedRevision> {
  assertBackend((options as { backend?: unknown }).backend);
  const backend: TrackingBackend = options.backend;
  if (backend === "mlflow") {
    const { logRevisionToMlflow } = await import("./mlflow/revision.js");
    return logRevisionToMlflow(await provenanceBundle(repository, revision), options as MlflowRevisionOptions);
  }
  const { logRevisionToWandb } = await import("./wandb/revision.js");
  return logRevisionToWandb(await provenanceBundle(repository, revision), options as WandbOptions);
}
