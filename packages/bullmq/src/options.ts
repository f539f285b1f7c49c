import type { JsonValue, Project } from "@labbook/core";
import type { Job } from "bullmq";

/** Options of labbookProcessor, shared with the flow parent's collection (flow.ts). */
export interface LabbookProcessorOptions {
  /** Opens the project the experiments go to; called once per job attempt (e.g. `() => openProject("s3://lab/runs")`). */
  project: () => Project | Promise<Project>;
  /** The experiment's name (default: the job's name). */
  name?: string | ((job: Job) => string) | undefined;
  /**
   * Checks the job data before any work and returns the parameters to log (a zod schema's `parse`
   * fits). Default: any plain JSON object. Whatever it throws fails the job without retries.
   */
  parameters?: ((data: unknown) => Record<string, JsonValue>) | undefined;
  /** How many times a save is tried again when other workers keep committing first (default 5). */
  saveAttempts?: number | undefined;
}
