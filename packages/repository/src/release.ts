import { LabbookError, parseDate, parsePyJson, type ReleaseRecord, type Storage, stringifyPyJson } from "@labbook/core";
import { commitIndex, validateFile } from "@labbook/core/internal";
import { releasesFileSchema } from "@labbook/core/schemas";
import { readIndexFile } from "./index-file.js";
import { type MatchMode, versionTime } from "./lookup.js";

/** A named set of pinned artifact versions, as one entry of releases.json. */
export interface Release {
  readonly tag: string;
  /** `[name, version]` pairs, sorted by name. */
  readonly artifacts: ReadonlyArray<readonly [string, number]>;
  readonly createdAt: Date;
  /** @internal The stored record, kept as read so unknown fields survive a rewrite. */
  readonly record: ReleaseRecord;
}

export interface FindReleaseOptions {
  /** Only for dates: "exact" (default) or "asof" (the newest release created at or before it). */
  match?: MatchMode | undefined;
}

/** A release from one releases.json record. */
export function releaseFromRecord(record: ReleaseRecord, where: string): Release {
  let createdAt: Date;
  try {
    createdAt = parseDate(record.created_at, "release created_at");
  } catch (cause) {
    throw new LabbookError("INVALID_FORMAT", `${where}: release "${record.tag}" has an invalid created_at "${record.created_at}".`, { path: where, cause });
  }
  return { tag: record.tag, artifacts: record.artifacts, createdAt, record };
}

/** Parse releases.json as lazyscribe writes it. */
export function parseReleases(text: string, where: string): Release[] {
  const records = validateFile(releasesFileSchema, parsePyJson(text, where), where);
  return records.map((r) => releaseFromRecord(r, where));
}

/** releases.json text: lazyscribe's layout (4-space indent, keys in tag/artifacts/created_at order). */
export function serializeReleases(releases: readonly Release[]): string {
  return stringifyPyJson(
    releases.map((r) => r.record),
    { indent: 4 },
  );
}

/** The releases in releases.json at `key` and its version (none and undefined when there is no file). */
export async function readReleases(storage: Storage, key: string): Promise<{ releases: Release[]; version: string | undefined }> {
  const stored = await readIndexFile(storage, key);
  if (!stored) return { releases: [], version: undefined };
  return { releases: parseReleases(stored.text, storage.describe(key)), version: stored.version };
}

export interface AppendReleaseOptions {
  readonly storage: Storage;
  /** The key of releases.json. */
  readonly key: string;
  readonly maxRetries: number;
  readonly record: ReleaseRecord;
}

/**
 * Append one release to releases.json, committed like every index (conditional write, re-read and
 * retry on conflict). A tag already there is INVALID_ARGUMENT, unless it is this very record, written
 * by an earlier attempt whose answer was lost: that is success.
 */
export async function appendRelease(options: AppendReleaseOptions): Promise<Release> {
  const { storage, key, record } = options;
  const where = storage.describe(key);
  const release = releaseFromRecord(record, where);
  const conditional = storage.capabilities.conditionalWrites;
  let current: { releases: Release[]; version: string | undefined } = { releases: [], version: undefined };
  // A write whose answer was lost may have landed: finding our own record on the retry is success.
  let sent = false;
  const landed = Symbol("landed");
  const refresh = async () => {
    current = await readReleases(storage, key);
    const existing = current.releases.find((r) => r.tag === record.tag);
    if (existing === undefined) return;
    if (sent && stringifyPyJson(existing.record, { sortKeys: true }) === stringifyPyJson(record, { sortKeys: true })) throw landed;
    throw new LabbookError("INVALID_ARGUMENT", `Release "${record.tag}" already exists in ${where}; pick another tag.`, { path: where });
  };
  if (!conditional) await refresh();
  try {
    await commitIndex({
      storage,
      key,
      conditional,
      maxRetries: options.maxRetries,
      catchUp: refresh,
      version: () => current.version,
      serialize: () => serializeReleases([...current.releases, release]),
      beforeWrite: () => {
        sent = true;
      },
    });
  } catch (error) {
    if (error !== landed) throw error;
  }
  return release;
}

/**
 * Find a release as lazyscribe's `find_release` does: no version → the newest release; a string →
 * the release with that tag; a Date with match "exact" → the release created at that time, with
 * "asof" → the newest release created at or before it. VERSION_NOT_FOUND when there is none.
 */
export function findRelease(releases: readonly Release[], version?: string | Date, options: FindReleaseOptions = {}): Release {
  const match = options.match ?? "exact";
  if (match !== "exact" && match !== "asof") {
    throw new LabbookError("INVALID_ARGUMENT", `Invalid match ${JSON.stringify(match)}: use "exact" or "asof".`);
  }
  const sorted = releases
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.createdAt.getTime() - b.r.createdAt.getTime() || a.i - b.i)
    .map((x) => x.r);
  if (sorted.length === 0) throw new LabbookError("VERSION_NOT_FOUND", "There are no releases yet; create one with createRelease(tag).");
  if (version === undefined) return sorted[sorted.length - 1] as Release;
  if (typeof version === "string") {
    if (match === "asof") {
      throw new LabbookError("INVALID_ARGUMENT", `Cannot match a tag ("${version}") "asof": pass a Date to find the release as of a time.`);
    }
    const found = sorted.find((r) => r.tag === version);
    if (!found) throw new LabbookError("VERSION_NOT_FOUND", `No release with tag "${version}". Tags: ${sorted.map((r) => r.tag).join(", ")}.`);
    return found;
  }
  const t = versionTime(version);
  const label = new Date(t).toISOString().slice(0, 19);
  if (match === "exact") {
    const found = sorted.find((r) => r.createdAt.getTime() === t);
    if (!found) throw new LabbookError("VERSION_NOT_FOUND", `No release created at ${label}.`);
    return found;
  }
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as Release).createdAt.getTime() <= t) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) {
    const first = sorted[0] as Release;
    throw new LabbookError("VERSION_NOT_FOUND", `${label} predates the earliest release "${first.tag}" (${first.record.created_at}).`);
  }
  return sorted[lo - 1] as Release;
}
