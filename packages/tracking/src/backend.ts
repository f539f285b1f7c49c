import { LabbookError } from "@labbook/core";

/** The tracking servers labbook exports to. */
export const TRACKING_BACKENDS = ["mlflow", "wandb"] as const;
export type TrackingBackend = (typeof TRACKING_BACKENDS)[number];

/** INVALID_ARGUMENT for a backend labbook does not know, before anything is loaded. */
export function assertBackend(backend: unknown): asserts backend is TrackingBackend {
  if (!TRACKING_BACKENDS.includes(backend as TrackingBackend)) {
    throw new LabbookError("INVALID_ARGUMENT", `Unknown tracking backend ${JSON.stringify(backend)}: use one of ${TRACKING_BACKENDS.join(", ")}.`);
  }
}
