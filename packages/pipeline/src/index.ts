export { Cache, type CacheEntryKeys, type CacheMetadata, type CacheOptions, cacheMetadataSchema } from "./cache.js";
export { type Cacher, cachers, handlerCacher } from "./cacher.js";
export { AGGREGATE_RECORD, aggregateRecord, type PlanEntry, plan, runAggregates, runRecord } from "./engine.js";
export {
  defineExperiment,
  type ExperimentOptions,
  type ParameterSet,
  type PipelineExperiment,
  validateExperiment,
  validateParameterSets,
} from "./experiment.js";
export { aggregateHash, canonicalParameters, type HashMeta, hashAs, hashRegistry, hashRepresentation, notHashed, parameterHash, sha256 } from "./hash.js";
export { type ProgressSink, StageProgress } from "./progress.js";
export { lockfileHash, pipelineVersion, readProvenance } from "./provenance.js";
export { PipelineRecord, type Provenance, type RunContext, type StageEvent, type StageRun } from "./record.js";
export { barChartSvg, escapeHtml, lineChartSvg, type RunSummary, renderIndex, renderReport, stageGraphSvg } from "./report.js";
export type { ReportItem } from "./report-items.js";
export { PIPELINE_RUN_TAG, type RunOptions, type RunResult, runPipeline, WORKER_ENV } from "./runner.js";
export {
  type AggregateStage,
  type AnyAggregateStage,
  type AnyStage,
  aggregate,
  type Stage,
  type StageOptions,
  type StageUses,
  stage,
} from "./stage.js";
export type { AggregateInput } from "./stage-spec.js";
export { summarize } from "./summary.js";
