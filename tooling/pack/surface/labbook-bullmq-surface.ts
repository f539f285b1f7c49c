// The BullMQ integration is reached through the subpath `labbook/bullmq` only: the umbrella's root
// types must not import the optional peer `bullmq` (the local-only consumer of
// tooling/pack/check-install.mjs type-checks without it).
// @ts-expect-error labbookProcessor is not exported from the root
import { labbookProcessor as fromRoot } from "labbook";
import { addExperimentFlow, type LabbookProcessorOptions, labbookProcessor, runTag } from "labbook/bullmq";

export const processor: typeof labbookProcessor = labbookProcessor;
export const flow: typeof addExperimentFlow = addExperimentFlow;
export const tag: string = runTag("bullmq/q/1/0");
export type Options = LabbookProcessorOptions;
export const root: unknown = fromRoot;
