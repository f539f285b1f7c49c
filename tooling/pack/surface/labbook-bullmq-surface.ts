// The BullMQ integration is reached through the subpath `labbook/bullmq` only: the umbrella's root
// types must not import the optional peer `bullmq` (the local-only consumer of
// tooling/pack/check-install.mjs type-checks without it).
import * as root from "labbook";
import { addExperimentFlow, type LabbookProcessorOptions, labbookProcessor, runTag } from "labbook/bullmq";

// @ts-expect-error labbookProcessor is not exported from the root
export const fromRoot: unknown = root.labbookProcessor;
if ("labbookProcessor" in root || "addExperimentFlow" in root) throw new Error("labbook's root exports the BullMQ integration again");
if (typeof labbookProcessor !== "function" || typeof addExperimentFlow !== "function") throw new Error("labbook/bullmq lacks its functions");
export type Options = LabbookProcessorOptions;
console.log(`labbook/bullmq surface: ${runTag("bullmq/q/1/0")} from the subpath, nothing from the root`);
