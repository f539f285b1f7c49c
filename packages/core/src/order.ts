import type { ExperimentRecord } from "./schemas.js";

/** lazyscribe's Experiment.__lt__: by last_updated for the same slug, by created_at otherwise. */
function before(a: ExperimentRecord, b: ExperimentRecord): boolean {
  return a.slug === b.slug ? a.last_updated < b.last_updated : a.created_at < b.created_at;
}

/**
 * The order lazyscribe holds a loaded project in: it inserts each experiment of the file with
 * `bisect.insort` (after its equals), so a file out of order is held ascending by created_at.
 * A file already in that order (the usual case) is returned as is, without copying.
 */
export function lazyscribeOrder<T extends ExperimentRecord>(records: T[]): T[] {
  let ordered = true;
  for (let i = 1; i < records.length && ordered; i++) ordered = !before(records[i] as T, records[i - 1] as T);
  if (ordered) return records;
  const out: T[] = [];
  for (const record of records) {
    // bisect_right: the first place whose element `record` sorts before.
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(record, out[mid] as T)) hi = mid;
      else lo = mid + 1;
    }
    out.splice(lo, 0, record);
  }
  return out;
}

/** True when `items` are ascending by created_at (the order every save writes). */
export function isAscending(items: readonly { record: ExperimentRecord }[]): boolean {
  for (let i = 1; i < items.length; i++)
    if ((items[i] as { record: ExperimentRecord }).record.created_at < (items[i - 1] as { record: ExperimentRecord }).record.created_at) return false;
  return true;
}
