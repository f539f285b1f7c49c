export { addExperimentFlow, type ExperimentFlowOptions, FLOW_MARKER, type FlowChild, type FlowSummary } from "./flow.js";
export type { LabbookProcessorOptions } from "./options.js";
export { jobRunId, type LabbookJobResult, labbookProcessor } from "./processor.js";
export {
  assertParameters,
  type CollectOptions,
  type CollectResult,
  collect,
  findRun,
  isSerializedExperiment,
  logRun,
  parseSerializedExperiment,
  RUN_TAG,
  type RunIdentity,
  runTag,
  type SerializedExperiment,
  serializeExperiment,
} from "./run.js";
