import { stringifyPyJson } from "./pyjson.js";
import type { ExperimentRecord } from "./schemas.js";

/**
 * labbook's merge rule for two copies of one experiment (same slug), independent of argument order:
 * 1. the copy with the later `last_updated` wins;
 * 2. on a tie, the copy whose canonical JSON sorts last wins (deterministic, unlike lazyscribe);
 * 3. artifacts (by name) and tests (by name) that only the losing copy has are kept.
 */
export function mergeExperimentRecords(a: ExperimentRecord, b: ExperimentRecord): ExperimentRecord {
  if (a === b) return a;
  const [winner, loser] = pickWinner(a, b);
  const names = new Set(winner.artifacts.map((x) => x.name));
  const extraArtifacts = loser.artifacts.filter((x) => !names.has(x.name));
  const tests = new Set(winner.tests.map((t) => t.name));
  const extraTests = loser.tests.filter((t) => !tests.has(t.name));
  if (extraArtifacts.length === 0 && extraTests.length === 0) return winner;
  return {
    ...winner,
    artifacts: [...winner.artifacts, ...extraArtifacts],
    tests: [...winner.tests, ...extraTests],
  };
}

/** Returns [winner, loser] by the rule above. */
export function pickWinner(a: ExperimentRecord, b: ExperimentRecord): [ExperimentRecord, ExperimentRecord] {
  if (a.last_updated !== b.last_updated) return a.last_updated > b.last_updated ? [a, b] : [b, a];
  const ja = stringifyPyJson(a, { sortKeys: true });
  const jb = stringifyPyJson(b, { sortKeys: true });
  return ja >= jb ? [a, b] : [b, a];
}

/** Stable sort by created_at (the project file's order). */
export function sortByCreated<T extends { record: ExperimentRecord }>(items: T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((x, y) => (x.item.record.created_at < y.item.record.created_at ? -1 : x.item.record.created_at > y.item.record.created_at ? 1 : x.index - y.index))
    .map((x) => x.item);
}
