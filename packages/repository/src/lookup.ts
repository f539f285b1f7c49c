import { type ArtifactEntry, LabbookError, parseDate } from "@labbook/core";

/** How a date is matched: `exact` (created_at equal to it) or `asof` (newest created at or before it). */
export type MatchMode = "exact" | "asof";
export const MATCH_MODES: readonly MatchMode[] = ["exact", "asof"];

/** An integer version, a Date, or a lazyscribe date string (`2024-01-31T12:00:00`, naive UTC). */
export type VersionRef = number | string | Date;

export interface VersionQuery {
  /** Omit for the latest version that has not expired. */
  version?: VersionRef | undefined;
  /** Default "exact". "asof" only applies to dates. */
  match?: MatchMode | undefined;
}

/** One version of an artifact with its dates parsed once. */
export interface Versioned {
  readonly entry: ArtifactEntry;
  /** created_at in epoch milliseconds. */
  readonly time: number;
  /** expiry in epoch milliseconds, when set. */
  expiry: number | undefined;
}

/** The versions of one name, sorted by created_at (ties keep logging order, as Python's stable sort). */
export class VersionIndex<T extends Versioned> {
  readonly sorted: T[];
  readonly #times: number[];
  readonly #byVersion = new Map<number, T>();

  constructor(items: readonly T[]) {
    this.sorted = items
      .map((item, i) => ({ item, i }))
      .sort((a, b) => a.item.time - b.item.time || a.i - b.i)
      .map((x) => x.item);
    this.#times = this.sorted.map((s) => s.time);
    // First in created_at order wins, as lazyscribe's linear search does.
    for (const s of this.sorted) if (!this.#byVersion.has(s.entry.version)) this.#byVersion.set(s.entry.version, s);
  }

  /** Index of the first version created after `t` (Python's bisect_right). */
  upperBound(t: number): number {
    let lo = 0;
    let hi = this.#times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#times[mid] as number) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first version created at or after `t`. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.#times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#times[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  byVersion(version: number): T | undefined {
    return this.#byVersion.get(version);
  }

  maxVersion(): number {
    let max = -1;
    for (const v of this.#byVersion.keys()) if (v > max) max = v;
    return max;
  }
}

function live(item: Versioned, at: number): boolean {
  return item.expiry === undefined || at < item.expiry;
}

function normaliseMatch(match: unknown): MatchMode {
  if (match === undefined) return "exact";
  if (match === "exact" || match === "asof") return match;
  throw new LabbookError("INVALID_ARGUMENT", `Invalid match ${JSON.stringify(match)}: use "exact" or "asof" ("asof" only for dates).`);
}

/** A date given as a version, in epoch milliseconds; INVALID_VERSION when it is not one. */
export function versionTime(version: string | Date): number {
  if (version instanceof Date) {
    const t = version.getTime();
    if (Number.isNaN(t)) throw new LabbookError("INVALID_VERSION", "Invalid version: the Date is not valid.");
    return t;
  }
  return parseDate(version, "version").getTime();
}

/**
 * Resolve one version of `name` by lazyscribe 2.2's rules (see docs/repository.md):
 * - no version: the newest by created_at whose expiry is unset or after `now`;
 * - an integer: that version (match must be "exact");
 * - a date, match "exact": the version created at exactly that time;
 * - a date, match "asof": the newest version created at or before it whose expiry is unset or after it.
 * Look-ups are binary searches; as-of and latest then step back over expired versions only.
 */
export function resolveVersion<T extends Versioned>(index: VersionIndex<T>, name: string, query: VersionQuery, now: Date, where: string): T {
  const match = normaliseMatch(query.match);
  const version = query.version;
  const notFound = (message: string) => new LabbookError("VERSION_NOT_FOUND", `${message} (repository ${where}).`, { path: where });
  if (version === undefined || version === null) {
    const at = now.getTime();
    for (let i = index.sorted.length - 1; i >= 0; i--) {
      const item = index.sorted[i] as T;
      if (live(item, at)) return item;
    }
    throw notFound(`Every version of "${name}" has expired as of ${now.toISOString().slice(0, 19)}`);
  }
  if (typeof version === "number") {
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new LabbookError("INVALID_VERSION", `Invalid version ${version} for "${name}": versions are integers from 0.`);
    }
    if (match !== "exact") {
      throw new LabbookError("INVALID_ARGUMENT", `match "${match}" needs a date; an integer version (${version}) is always matched exactly.`);
    }
    const found = index.byVersion(version);
    if (!found) throw notFound(`No version ${version} of "${name}"`);
    return found;
  }
  if (typeof version !== "string" && !(version instanceof Date)) {
    throw new LabbookError("INVALID_VERSION", `Invalid version ${String(version)} for "${name}": give an integer, a Date or a date string.`);
  }
  const t = versionTime(version);
  const label = new Date(t).toISOString().slice(0, 19);
  if (match === "exact") {
    const i = index.lowerBound(t);
    const item = index.sorted[i];
    if (item === undefined || item.time !== t) throw notFound(`No version of "${name}" created at ${label}`);
    return item;
  }
  const end = index.upperBound(t);
  if (end === 0) {
    throw notFound(`${label} predates the earliest version of "${name}" (${index.sorted[0]?.entry.created_at ?? "none"})`);
  }
  for (let i = end - 1; i >= 0; i--) {
    const item = index.sorted[i] as T;
    if (live(item, t)) return item;
  }
  throw notFound(`Every version of "${name}" created by ${label} had expired by then`);
}
