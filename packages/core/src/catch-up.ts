import type { Storage } from "./storage.js";

export interface CatchUpOptions<T> {
  readonly storage: Storage;
  /** The index key in `storage`. */
  readonly key: string;
  /** The version the in-memory state is based on (undefined: the index did not exist). */
  readonly known: string | undefined;
  /** Read the stored index; undefined when it is gone. */
  read(): Promise<T | undefined>;
  /** The index is gone: the state is now based on nothing (the next commit is create-only). */
  gone(): void;
  /** Take in what is stored now (other writers' changes), keeping this writer's own, and its version. */
  merge(stored: T): void;
}

/**
 * The one catch-up after a conflict, for every index (projects, repositories): an unchanged index
 * (same version) costs one stat; a changed one is read and merged in; a deleted one resets the base.
 */
export async function catchUpIndex<T>(options: CatchUpOptions<T>): Promise<void> {
  const info = await options.storage.stat(options.key);
  if (info !== undefined && info.version === options.known) return;
  const stored = info === undefined ? undefined : await options.read();
  if (stored === undefined) options.gone();
  else options.merge(stored);
}
