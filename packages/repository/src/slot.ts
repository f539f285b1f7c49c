import { type ArtifactEntry, LabbookError, parseDate } from "@labbook/core";
import type { Versioned } from "./lookup.js";

/** One version of an artifact: its entry, and until it is saved, what to write and how far the save got. */
export interface Slot extends Versioned {
  entry: ArtifactEntry;
  /** Not yet in the stored index. */
  pending: boolean;
  /** The fname asked for (or the default); a save may pick a free variant or an identical file's. */
  requested: string;
  value: unknown;
  writerOptions: Record<string, unknown>;
  /** Promotion: the bytes come from another artifact store, streamed. */
  source: (() => Promise<AsyncIterable<Uint8Array>>) | undefined;
  /** Logged by promote(): refused after a re-read, too, when a stored version is not older. */
  promoted: boolean;
  /** The key of the file this slot wrote itself (not a content twin's), until it is committed. */
  ownFile: string | undefined;
  /**
   * An index write naming this slot was sent and its outcome is unknown (a lost answer may have
   * committed it). Kept across saves until a save commits or a read of the index shows it absent.
   */
  sent: boolean;
}

/** A new version to write on the next save: a value with its writer options, or a stream to copy (promotion). */
export function pendingSlot(entry: ArtifactEntry, time: number, fields: Pick<Slot, "expiry" | "value" | "writerOptions" | "source" | "promoted">): Slot {
  return { entry, time, ...fields, pending: true, requested: entry.fname, ownFile: undefined, sent: false };
}

/** A stored version, its dates parsed once (INVALID_FORMAT naming the entry when one is not a date). */
export function slotFromEntry(entry: ArtifactEntry, where: string, index: number): Slot {
  let time: number;
  let expiry: number | undefined;
  try {
    time = parseDate(entry.created_at, "created_at").getTime();
    expiry = entry.expiry === null ? undefined : parseDate(entry.expiry, "expiry").getTime();
  } catch (cause) {
    throw new LabbookError(
      "INVALID_FORMAT",
      `${where} has an invalid date in entry [${index}] ("${entry.name}" v${entry.version}): ${(cause as Error).message}`,
      {
        path: where,
        cause,
      },
    );
  }
  return { ...pendingSlot(entry, time, { expiry, value: undefined, writerOptions: {}, source: undefined, promoted: false }), pending: false };
}

/** The same stored file: what a writer can recognise as its own entry after a lost answer. */
export function sameFile(a: ArtifactEntry, b: ArtifactEntry): boolean {
  return a.name === b.name && a.fname === b.fname && a.sha256 === b.sha256 && a.size === b.size && a.created_at === b.created_at && a.handler === b.handler;
}

/** promote()'s refusal: the artifact is not newer than the latest stored version. */
export function notNewer(entry: ArtifactEntry, latest: ArtifactEntry, where: string, slug?: string): LabbookError {
  const of = slug === undefined ? "" : ` of experiment "${slug}"`;
  return new LabbookError(
    "ARTIFACT_LOG",
    `Artifact "${entry.name}"${of} (created ${entry.created_at}) is not newer than the latest version in ${where} (v${latest.version}, created ${latest.created_at}); nothing was promoted.`,
    { path: where },
  );
}
