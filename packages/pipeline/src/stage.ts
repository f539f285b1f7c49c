import type { Cacher } from "./cacher.js";
import type { PipelineRecord } from "./record.js";
import type { AggregateInput } from "./stage-spec.js";

// biome-ignore lint/suspicious/noExplicitAny: stage values are whatever the user's stages pass along.
type AnyValues = Record<string, any>;

export interface StageOptions<In extends AnyValues, Out extends AnyValues> {
  /** Part of cache file names: letters, digits, ".", "_", "-". */
  readonly name: string;
  /** Names read from the record's state; each must be an output of an earlier stage. */
  readonly inputs?: ReadonlyArray<keyof In & string> | undefined;
  /** Names the stage returns and writes to the record's state. */
  readonly outputs?: ReadonlyArray<keyof Out & string> | undefined;
  /** One cacher per output, in the order of `outputs`; without cachers the stage always runs. */
  readonly cachers?: ReadonlyArray<Cacher> | undefined;
  /** Outputs copied into the run's labbook experiment as artifacts. */
  readonly artifacts?: ReadonlyArray<keyof Out & string> | undefined;
}

export interface StageUses<P> {
  /**
   * The parameters this stage reads. Given, the stage caches under a hash of just these parameters
   * and the hashes its inputs were made under, so changing another parameter does not rerun it (and
   * parameter sets that agree on them share its outputs). Omitted: the whole parameter set's hash.
   */
  readonly uses?: ReadonlyArray<keyof P & string> | undefined;
}

/** A stage: a function of its declared inputs that returns its declared outputs. */
export interface Stage<In extends AnyValues = AnyValues, Out extends AnyValues = AnyValues, P = AnyValues> {
  readonly kind: "stage";
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly cachers: readonly Cacher[];
  readonly artifacts: readonly string[];
  readonly uses: readonly string[] | undefined;
  readonly run: (inputs: In, record: PipelineRecord<P>) => Out | Promise<Out>;
}

/** An aggregate stage: takes many records and caches under a hash combined from theirs. */
export interface AggregateStage<In extends AnyValues = AnyValues, Out extends AnyValues = AnyValues, P = AnyValues> {
  readonly kind: "aggregate";
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly cachers: readonly Cacher[];
  readonly artifacts: readonly string[];
  readonly uses: undefined;
  readonly run: (records: ReadonlyArray<AggregateInput<In, P>>, record: PipelineRecord<P>) => Out | Promise<Out>;
}

/** Any stage, whatever its value types (stages are checked one by one where they are declared). */
// biome-ignore lint/suspicious/noExplicitAny: a list of differently typed stages.
export type AnyStage = Stage<any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: a list of differently typed aggregates.
export type AnyAggregateStage = AggregateStage<any, any, any>;

function spec<In extends AnyValues, Out extends AnyValues>(options: StageOptions<In, Out>) {
  return {
    name: options.name,
    inputs: [...(options.inputs ?? [])],
    outputs: [...(options.outputs ?? [])],
    cachers: [...(options.cachers ?? [])],
    artifacts: [...(options.artifacts ?? [])],
  };
}

/**
 * Declare a stage. Mismatches (cachers vs outputs, artifacts that are not outputs, inputs nobody
 * produces) are reported by `validateExperiment` before anything runs.
 *
 * @example
 * const train = stage<{ data: number[][] }, { model: Model }, Params>(
 *   { name: "train", inputs: ["data"], outputs: ["model"], cachers: [cachers.json()] },
 *   ({ data }, record) => ({ model: fit(data, record.params.lr) }),
 * );
 */
export function stage<In extends AnyValues = AnyValues, Out extends AnyValues = AnyValues, P = AnyValues>(
  options: StageOptions<In, Out> & StageUses<P>,
  run: (inputs: In, record: PipelineRecord<P>) => Out | Promise<Out>,
): Stage<In, Out, P> {
  return { kind: "stage", ...spec(options), uses: options.uses === undefined ? undefined : [...options.uses], run };
}

/**
 * Declare an aggregate stage: `inputs` are read from every record it takes.
 *
 * @example
 * const compare = aggregate<{ score: number }, { best: string }>(
 *   { name: "compare", inputs: ["score"], outputs: ["best"], cachers: [cachers.json()] },
 *   (records) => ({ best: records.reduce((a, b) => (b.values.score > a.values.score ? b : a)).name }),
 * );
 */
export function aggregate<In extends AnyValues = AnyValues, Out extends AnyValues = AnyValues, P = AnyValues>(
  options: StageOptions<In, Out>,
  run: (records: ReadonlyArray<AggregateInput<In, P>>, record: PipelineRecord<P>) => Out | Promise<Out>,
): AggregateStage<In, Out, P> {
  return { kind: "aggregate", ...spec(options), uses: undefined, run };
}
