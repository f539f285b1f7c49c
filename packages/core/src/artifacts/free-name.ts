import { isLabbookError, LabbookError } from "../errors.js";
import { joinKey, type Storage, type WriteOptions } from "../storage.js";

/** How many variant names a new artifact file tries before SAVE_FAILED. */
export const MAX_FNAME_TRIES = 1000;

/**
 * `model-2024.json` → `model-2024-2.json`: the n-th variant of a file name, used when the name is
 * taken (the suffix stays last; a name without one gets `-n` at the end).
 */
export function numberedFname(fname: string, n: number): string {
  const slash = fname.lastIndexOf("/");
  const dot = fname.lastIndexOf(".");
  return dot > slash + 1 ? `${fname.slice(0, dot)}-${n}${fname.slice(dot)}` : `${fname}-${n}`;
}

/** A create-only write found the name taken (CONFLICT, or a SAVE_FAILED caused by one). */
export function isNameTaken(error: unknown): boolean {
  return isLabbookError(error, "CONFLICT") || (isLabbookError(error, "SAVE_FAILED") && isLabbookError(error.cause, "CONFLICT"));
}

export interface CreateUnderFreeNameOptions {
  readonly storage: Storage;
  /** The folder key the file goes in. */
  readonly folder: string;
  /** The file name asked for; variants are `numberedFname(requested, n)`. */
  readonly requested: string;
  /** The first variant worth trying (default 0, the name itself). */
  readonly first?: number | undefined;
  /** Names known to be taken without asking the storage (for example other versions in an index). */
  readonly taken?: ((fname: string) => boolean) | undefined;
  /** The artifact's name, for the error message. */
  readonly name: string;
  /** Write the file at `key` with `options` (create-only where the storage can); CONFLICT means the name is taken. */
  write(key: string, options: WriteOptions): Promise<void>;
}

/**
 * The one create-under-a-free-name loop: a new file never replaces an existing one. It is created
 * under `requested` if that is free, else under the first free `-1`, `-2`… variant (create-only
 * writes where the storage honours them, a stat first where it does not). Resolves to the name and
 * key written; SAVE_FAILED after MAX_FNAME_TRIES names; any other error of `write` passes through.
 */
export async function createUnderFreeName(options: CreateUnderFreeNameOptions): Promise<{ fname: string; key: string }> {
  const { storage, folder, requested } = options;
  const conditional = storage.capabilities.conditionalWrites;
  const first = options.first ?? 0;
  for (let n = first; n < first + MAX_FNAME_TRIES; n++) {
    const fname = n === 0 ? requested : numberedFname(requested, n);
    if (options.taken?.(fname)) continue;
    const key = joinKey(folder, fname);
    if (!conditional && (await storage.stat(key)) !== undefined) continue;
    try {
      await options.write(key, conditional ? { ifNoneMatch: "*" } : {});
    } catch (error) {
      if (isNameTaken(error)) continue;
      throw error;
    }
    return { fname, key };
  }
  throw new LabbookError("SAVE_FAILED", `No free file name for artifact "${options.name}" near "${requested}" in ${storage.describe(folder)}.`, {
    path: storage.describe(folder),
  });
}
