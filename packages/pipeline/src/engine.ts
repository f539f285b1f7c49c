import type { Cacher } from "./cacher.js";
import type { ParameterSet, PipelineExperiment } from "./experiment.js";
import { aggregateHash, parameterHash } from "./hash.js";
import { PipelineRecord, type RunContext } from "./record.js";

/** Name of the record aggregate stages run on. */
export const AGGREGATE_RECORD = "aggregate";

/** Run every stage of `experiment` for one parameter set; cached stages are skipped and load lazily. */
export async function runRecord(
  experiment: PipelineExperiment,
  set: ParameterSet,
  context: RunContext,
  record: PipelineRecord = new PipelineRecord(set, context),
): Promise<PipelineRecord> {
  for (const stage of experiment.stages) await record.run(stage);
  return record;
}

/** The record aggregates run on: no parameters of its own, its hash combined from the records it takes. */
export function aggregateRecord(records: readonly PipelineRecord[], context: RunContext): PipelineRecord {
  const active = parameterHash({});
  return new PipelineRecord(
    { name: AGGREGATE_RECORD },
    context,
    aggregateHash(
      active,
      records.map((r) => r.hash),
    ),
  );
}

/** Run the experiment's aggregate stages over `records`. */
export async function runAggregates(
  experiment: PipelineExperiment,
  records: readonly PipelineRecord[],
  context: RunContext,
): Promise<PipelineRecord | undefined> {
  if (experiment.aggregates.length === 0) return undefined;
  const record = aggregateRecord(records, context);
  for (const stage of experiment.aggregates) await record.runAggregate(stage, records);
  return record;
}

/** What a run would do, stage by stage, without running or writing anything. */
export interface PlanEntry {
  readonly record: string;
  readonly hash: string;
  readonly stage: string;
  readonly cached: boolean;
  readonly keys: readonly string[];
}

export async function plan(experiment: PipelineExperiment, sets: readonly ParameterSet[], context: RunContext): Promise<PlanEntry[]> {
  const entries: PlanEntry[] = [];
  const records = sets.map((set) => new PipelineRecord(set, context));
  const probe = async (
    record: PipelineRecord,
    stage: PipelineExperiment["stages"][number] | PipelineExperiment["aggregates"][number],
    made: Map<string, string>,
  ) => {
    const hash = record.stageHash(stage, made);
    for (const output of stage.outputs) made.set(output, hash);
    entries.push({
      record: record.name,
      hash,
      stage: stage.name,
      cached: await record.isCached(stage, hash),
      keys: stage.cachers.length === 0 ? [] : stage.outputs.map((o, i) => context.cache.keys(hash, stage.name, o, stage.cachers[i] as Cacher).data),
    });
  };
  for (const record of records) {
    // The hash each output would be made under, as running the stages in order would set it.
    const made = new Map<string, string>();
    for (const stage of experiment.stages) await probe(record, stage, made);
  }
  if (experiment.aggregates.length > 0) {
    const agg = aggregateRecord(records, context);
    for (const stage of experiment.aggregates) await probe(agg, stage, new Map());
  }
  return entries;
}
