// The experiment every workload logs, the same as bench/lazyscribe_bench.py's fill() (keep the two in step):
// 20 metrics, 20 string parameters, 2 tags, 2 small json artifacts.
import { METRICS, metric, PARAMS } from "./data.mjs";
import { markFloat } from "./labbook.mjs";

export { ASOF, asofMinute, LOOKUPS, METRICS, metric, PARAMS, REPO_NAMES } from "./data.mjs";

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
