import type { Experiment } from "@labbook/core";
import type { TrackingBackend } from "./backend.js";

// What exportProject and every backend's exporter (./mlflow/export.ts, ./wandb/export.ts) share.

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
