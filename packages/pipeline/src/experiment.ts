import { LabbookError } from "@labbook/core";
import type { ZodType } from "zod";
import { assertName } from "./names.js";
import type { AggregateStage, AnyAggregateStage, AnyStage, Stage } from "./stage.js";

/** A parameter set: a name and the values the schema describes. */
export type ParameterSet<P = Record<string, unknown>> = P & { readonly name: string };

/** A parameter set as written in a file or module (checked against the schema before a run). */
export type NamedValues = { readonly name: string } & Readonly<Record<string, unknown>>;

export interface ExperimentOptions<S extends ZodType> {
  /** The run's experiment name in the labbook project and the prefix of its cache files. */
  readonly name: string;
  /** A zod object schema for the values of a parameter set (without `name`). */
  readonly parameters: S;
  /** Per-record stages, in order. */
  readonly stages: ReadonlyArray<AnyStage>;
  /** Stages over every record of the run, after the per-record stages, in order. */
  readonly aggregates?: ReadonlyArray<AnyAggregateStage> | undefined;
  /** Named parameter sets that `-p <name>` picks. */
  readonly parameterSets?: Readonly<Record<string, ReadonlyArray<NamedValues> | NamedValues>> | undefined;
  readonly description?: string | undefined;
}

/** A pipeline experiment: the module `labbook run` loads exports one as its default export. */
export interface PipelineExperiment<S extends ZodType = ZodType> {
  readonly kind: "pipeline-experiment";
  readonly name: string;
  readonly parameters: S;
  readonly stages: readonly Stage[];
  readonly aggregates: readonly AggregateStage[];
  readonly parameterSets: Readonly<Record<string, ReadonlyArray<ParameterSet> | ParameterSet>>;
  readonly description: string | undefined;
}

/**
 * Declare an experiment; export it as the module's default for `labbook run`.
 *
 * @example
 * export default defineExperiment({ name: "toy", parameters: z.object({ lr: z.number() }), stages: [load, train] });
 */
export function defineExperiment<S extends ZodType>(options: ExperimentOptions<S>): PipelineExperiment<S> {
  return {
    kind: "pipeline-experiment",
    name: options.name,
    parameters: options.parameters,
    stages: [...options.stages] as Stage[],
    aggregates: [...(options.aggregates ?? [])] as AggregateStage[],
    parameterSets: (options.parameterSets ?? {}) as PipelineExperiment["parameterSets"],
    description: options.description,
  };
}

function invalid(message: string, path?: string): LabbookError {
  return new LabbookError("INVALID_ARGUMENT", message, { path });
}

function checkShape(stage: Stage | AggregateStage, where: string): void {
  assertName(stage.name, `${where} name`);
  const seen = new Set<string>();
  for (const output of stage.outputs) {
    assertName(output, `output name of ${where} "${stage.name}"`);
    if (seen.has(output)) throw invalid(`${where} "${stage.name}" declares the output "${output}" twice.`, stage.name);
    seen.add(output);
  }
  if (stage.cachers.length > 0 && stage.cachers.length !== stage.outputs.length) {
    throw invalid(
      `${where} "${stage.name}" has ${stage.outputs.length} output(s) (${stage.outputs.join(", ") || "none"}) but ${stage.cachers.length} cacher(s): give one cacher per output, in order, or none (the stage then always runs).`,
      stage.name,
    );
  }
  for (const [i, cacher] of stage.cachers.entries()) {
    if (!cacher || typeof cacher.encode !== "function" || typeof cacher.decode !== "function" || typeof cacher.extension !== "string") {
      throw invalid(`${where} "${stage.name}": cacher ${i + 1} is not a cacher (it needs name, extension, encode and decode).`, stage.name);
    }
    assertName(cacher.extension, `cacher extension of ${where} "${stage.name}"`);
  }
  for (const a of stage.artifacts) {
    if (!seen.has(a))
      throw invalid(
        `${where} "${stage.name}" lists "${a}" as an artifact, but it is not one of its outputs (${stage.outputs.join(", ") || "none"}).`,
        stage.name,
      );
    if (stage.cachers.length === 0)
      throw invalid(`${where} "${stage.name}" lists "${a}" as an artifact but has no cachers: artifacts are copied from the cache.`, stage.name);
  }
}

/**
 * Check an experiment before anything runs: names, one cacher per output, artifacts among the outputs,
 * every input produced by an earlier stage, and `--overwrite-stage` names that exist.
 * Throws INVALID_ARGUMENT or MISSING_DEPENDENCY naming the stage.
 */
export function validateExperiment(experiment: PipelineExperiment, options: { overwriteStages?: Iterable<string> | undefined } = {}): void {
  if (experiment?.kind !== "pipeline-experiment") throw invalid("Not a pipeline experiment: export default defineExperiment({...}) from the module.");
  assertName(experiment.name, "experiment name");
  const stageNames = new Set<string>();
  const produced = new Map<string, string>();
  for (const stage of experiment.stages) {
    if (stage?.kind !== "stage") throw invalid(`Experiment "${experiment.name}": its stages must be made with stage(...); an aggregate goes in aggregates.`);
    checkShape(stage, "stage");
    if (stageNames.has(stage.name)) throw invalid(`Experiment "${experiment.name}" has two stages named "${stage.name}".`, stage.name);
    stageNames.add(stage.name);
    const shape = (experiment.parameters as unknown as { shape?: Record<string, unknown> }).shape;
    for (const used of stage.uses ?? []) {
      if (used === "name" || (shape && !Object.hasOwn(shape, used))) {
        throw invalid(
          `Stage "${stage.name}" uses the parameter "${used}", which the schema of "${experiment.name}" does not have (it has: ${Object.keys(shape ?? {}).join(", ")}).`,
          stage.name,
        );
      }
    }
    for (const input of stage.inputs) {
      if (!produced.has(input)) {
        throw new LabbookError(
          "MISSING_DEPENDENCY",
          `Stage "${stage.name}" needs "${input}", which no earlier stage produces (produced so far: ${[...produced.keys()].join(", ") || "nothing"}). Add a stage with that output before it.`,
          { path: stage.name },
        );
      }
    }
    for (const output of stage.outputs) {
      const by = produced.get(output);
      if (by) throw invalid(`Stage "${stage.name}" outputs "${output}", which stage "${by}" already produces: give it another name.`, stage.name);
      produced.set(output, stage.name);
    }
  }
  for (const agg of experiment.aggregates) {
    if (agg?.kind !== "aggregate") throw invalid(`Experiment "${experiment.name}": its aggregates must be made with aggregate(...).`);
    checkShape(agg, "aggregate stage");
    if (stageNames.has(agg.name)) throw invalid(`Experiment "${experiment.name}" has two stages named "${agg.name}".`, agg.name);
    stageNames.add(agg.name);
    for (const input of agg.inputs) {
      if (!produced.has(input)) {
        throw new LabbookError(
          "MISSING_DEPENDENCY",
          `Aggregate stage "${agg.name}" needs "${input}" from every record, but no stage produces it (stages produce: ${[...produced.keys()].join(", ") || "nothing"}).`,
          { path: agg.name },
        );
      }
    }
  }
  for (const name of options.overwriteStages ?? []) {
    if (!stageNames.has(name))
      throw invalid(`--overwrite-stage ${name}: experiment "${experiment.name}" has no such stage (it has ${[...stageNames].join(", ")}).`, name);
  }
}

/**
 * Validate parameter sets against the experiment's schema: each needs a unique, file-name-safe `name`
 * and values the schema accepts. `source` (a file or set name) goes into messages. Returns the parsed sets.
 */
export function validateParameterSets(experiment: PipelineExperiment, sets: ReadonlyArray<{ set: unknown; source: string }>): ParameterSet[] {
  const out: ParameterSet[] = [];
  const names = new Map<string, string>();
  for (const { set, source } of sets) {
    if (set === null || typeof set !== "object" || Array.isArray(set))
      throw invalid(`Parameter set from ${source} is not an object with a name and values.`, source);
    const { name, ...values } = set as Record<string, unknown>;
    assertName(name, "parameter set name", ` (from ${source})`);
    const parsed = experiment.parameters.safeParse(values);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(values)"}: ${i.message}`).join("; ");
      throw invalid(`Parameter set "${name}" from ${source} does not match the schema of "${experiment.name}": ${issues}.`, source);
    }
    const previous = names.get(name);
    if (previous !== undefined)
      throw invalid(`Two parameter sets are named "${name}" (from ${previous} and ${source}): names must be unique in a run.`, source);
    names.set(name, source);
    out.push({ ...(parsed.data as Record<string, unknown>), name });
  }
  if (out.length === 0) throw invalid(`No parameter sets for "${experiment.name}": pass -p <file or name>.`);
  return out;
}
