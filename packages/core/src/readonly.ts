import type { ExperimentRecord, TestRecord } from "./schemas.js";

/**
 * `T` with every property and array read-only, all the way down: what views of stored records
 * return, so `exp.toRecord().metrics.x = 1` does not compile. (Written here rather than taken from
 * type-fest, so that core's published types need no extra package.)
 */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepReadonly<U>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** An experiment's stored record, read-only (see `Experiment.toRecord`). */
export type ReadonlyExperimentRecord = DeepReadonly<ExperimentRecord>;

/** A test's stored record, read-only (see `Test.toRecord`). */
export type ReadonlyTestRecord = DeepReadonly<TestRecord>;
