// The workloads' numbers and values, without labbook (the floors use them too). bench/workload-data.mjs
// logs them through labbook; bench/lazyscribe_bench.py and bench/mlflow_bench.py repeat them (keep in step).

export const METRICS = 20;
export const PARAMS = 20;
export const REPO_NAMES = 50;
export const LOOKUPS = 100;
export const ASOF = 50;

/** A whole-number float every 20th metric (a best epoch, say), as real projects have. */
export function metric(i, k) {
  if (k === 0) return i % 50;
  return ((i * 7919 + k * 104729) % 1000003) / 1000003 + k;
}

/** The as-of minute of look-up j: late enough that every name has a version by then. */
export function asofMinute(j, n) {
  return Math.min(n - 1, REPO_NAMES + ((j * 7919) % Math.max(1, n - REPO_NAMES)));
}
