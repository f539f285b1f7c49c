// The experiment every workload logs, the same as bench/lazyscribe_bench.py's fill() (keep the two in step):
// 20 metrics, 20 string parameters, 2 tags, 2 small json artifacts.
import { markFloat } from "./labbook.mjs";

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

const pad = (k) => String(k).padStart(2, "0");

/** Log one experiment's contents, as Python logs them (metric 0 is a Python float, written 3.0). */
export function fill(exp, i) {
  for (let k = 0; k < METRICS; k++) {
    exp.logMetric(`metric_${pad(k)}`, metric(i, k));
  }
  markFloat(exp.record.metrics, "metric_00");
  for (let k = 0; k < PARAMS; k++) exp.logParameter(`param_${pad(k)}`, `value-${(i + k) % 97}-${k}`);
  exp.tag("bench", `group-${i % 10}`);
  const summary = { i, scores: [1, 2, 3, 4, 5].map((k) => metric(i, k)) };
  exp.logArtifact("config", { i, lr: 0.001 * ((i % 10) + 1), layers: [64, 32, 16] }, { handler: "json" });
  exp.logArtifact("summary", summary, { handler: "json" });
}

/** The as-of minute of look-up j: late enough that every name has a version by then. */
export function asofMinute(j, n) {
  return Math.min(n - 1, REPO_NAMES + ((j * 7919) % Math.max(1, n - REPO_NAMES)));
}
