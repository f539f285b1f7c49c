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
  return mergeAllRecords([a, b]);
}

/**
 * The same rule for any number of copies at once: the top-ranked copy wins and the others, in rank
 * order, add the artifacts and tests it lacks. Merging pairwise in turn would not do: a merged
 * copy's canonical JSON differs from its parts', so ties could be broken differently by order.
 */
export function mergeAllRecords(copies: readonly ExperimentRecord[]): ExperimentRecord {
  const ranked = [...copies].sort((x, y) => (x === y ? 0 : pickWinner(x, y)[0] === x ? -1 : 1));
  const [winner, ...losers] = ranked;
  if (winner === undefined) throw new RangeError("mergeAllRecords needs at least one record");
  const names = new Set(winner.artifacts.map((x) => x.name));
  const tests = new Set(winner.tests.map((t) => t.name));
  const extraArtifacts: ExperimentRecord["artifacts"] = [];
  const extraTests: ExperimentRecord["tests"] = [];
  for (const loser of losers) {
    for (const x of loser.artifacts) {
      if (names.has(x.name)) continue;
      names.add(x.name);
      extraArtifacts.push(x);
    }
    for (const t of loser.tests) {
      if (tests.has(t.name)) continue;
      tests.add(t.name);
      extraTests.push(t);
    }
  }
  if (extraArtifacts.length === 0 && extraTests.length === 0) return winner;
  return {
    ...winner,
    artifacts: [...winner.artifacts, ...extraArtifacts],
    tests: [...winner.tests, ...extraTests],
  };
}

/**
 * Which experiments of several projects that share one slug are copies of one experiment.
 * `lists` holds each project's experiments with that slug, in file order. Within one project they
 * are different experiments (same name, same second, different writers). Across projects, an exact
 * copy (same canonical JSON) found in two or more projects is one experiment; the rest are paired by
 * their order in each project (copies of one project keep its order). The groups do not depend on
 * the order of `lists`, and an experiment is in exactly one group.
 */
export function groupCopies<T>(lists: readonly (readonly T[])[], recordOf: (item: T) => ExperimentRecord): T[][] {
  if (lists.every((list) => list.length <= 1)) return lists.some((list) => list.length > 0) ? [lists.flat()] : [];
  const canon = (item: T) => stringifyPyJson(recordOf(item), { sortKeys: true });
  const texts = lists.map((list) => list.map(canon));
  const taken = lists.map((list) => list.map(() => false));
  const groups: T[][] = [];
  const shared = [...new Set(texts.flat())].filter((t) => texts.filter((list) => list.includes(t)).length >= 2).sort();
  for (const text of shared) {
    const occurrences = texts.map((list) => list.flatMap((t, i) => (t === text ? [i] : [])));
    const most = Math.max(...occurrences.map((o) => o.length));
    for (let j = 0; j < most; j++) {
      const items: T[] = [];
      occurrences.forEach((o, p) => {
        const i = o[j];
        if (i === undefined) return;
        items.push((lists[p] as readonly T[])[i] as T);
        (taken[p] as boolean[])[i] = true;
      });
      groups.push(items);
    }
  }
  const rest = lists.map((list, p) => list.filter((_, i) => !taken[p]?.[i]));
  const most = Math.max(0, ...rest.map((list) => list.length));
  for (let j = 0; j < most; j++) {
    groups.push(rest.flatMap((list) => (j < list.length ? [list[j] as T] : [])));
  }
  return groups;
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
