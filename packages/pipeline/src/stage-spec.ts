import type { Cacher } from "./cacher.js";

/**
 * What a record needs of a stage to hash, cache and run it: the declaration of a `Stage` or an
 * `AggregateStage` (stage.ts) without its function. Kept here so record.ts does not import stage.ts
 * (whose stages take a PipelineRecord).
 */
export interface StageSpec {
  readonly kind: "stage" | "aggregate";
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly cachers: readonly Cacher[];
  readonly artifacts: readonly string[];
  readonly uses: readonly string[] | undefined;
}

/** One record's view for an aggregate: its name, hash, parameters and the declared inputs it produced. */
export interface AggregateInput<In, P> {
  readonly name: string;
  readonly hash: string;
  readonly params: P;
  readonly values: In;
}
