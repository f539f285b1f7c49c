import { isLabbookError, joinKey, LabbookError, type Storage, toBytes } from "@labbook/core";
import { z } from "zod";
import type { Cacher } from "./cacher.js";
import { assertName } from "./names.js";

/** The `_metadata.json` sidecar of one cached output (the on-disk shape; types come from it). */
export const cacheMetadataSchema = z.looseObject({
  parameters: z.record(z.string(), z.unknown()),
  hash: z.string(),
  stage: z.string(),
  output: z.string(),
  record: z.string(),
  cacher: z.string(),
  file: z.string(),
  created_at: z.string(),
  labbook_version: z.string(),
  git_commit: z.string().nullable(),
  git_dirty: z.boolean().nullable(),
  /** For aggregate outputs: the hashes of the records it took. */
  inputs: z.array(z.string()).optional(),
});
export type CacheMetadata = z.infer<typeof cacheMetadataSchema>;

/** Where one output of one stage for one hash lives. */
export interface CacheEntryKeys {
  readonly data: string;
  readonly metadata: string;
}

export interface CacheOptions {
  /** Folder inside the storage ("" for its root). Default "cache". */
  dir?: string | undefined;
  /** First part of every file name; the runner uses the experiment's name. */
  prefix: string;
}

/**
 * Stage outputs by hash in any labbook Storage:
 * `<dir>/<prefix>_<hash>_<stage>_<output>.<ext>` with `<dir>/<prefix>_<hash>_<stage>_<output>_metadata.json`.
 * The data file is written first and the metadata last, both create-only: an entry counts as cached
 * only when its metadata exists, so a reader never takes a half-made entry, and two processes filling
 * the same entry at once both succeed with one copy kept.
 */
export class Cache {
  readonly storage: Storage;
  readonly dir: string;
  readonly prefix: string;

  constructor(storage: Storage, options: CacheOptions) {
    assertName(options.prefix, "cache prefix");
    this.storage = storage;
    this.dir = options.dir ?? "cache";
    this.prefix = options.prefix;
  }

  /** Base key (no extension) for a name in a stage's slot: `<dir>/<prefix>_<hash>_<stage>_<name>`. */
  base(hash: string, stage: string, name: string): string {
    assertName(stage, "stage name");
    assertName(name, "output name");
    return joinKey(this.dir, `${this.prefix}_${hash}_${stage}_${name}`);
  }

  keys(hash: string, stage: string, output: string, cacher: Cacher): CacheEntryKeys {
    const base = this.base(hash, stage, output);
    return { data: `${base}.${cacher.extension}`, metadata: `${base}_metadata.json` };
  }

  /** True when the entry is complete (its metadata and data both exist). */
  async has(keys: CacheEntryKeys): Promise<boolean> {
    const meta = await this.storage.stat(keys.metadata);
    if (!meta) return false;
    return (await this.storage.stat(keys.data)) !== undefined;
  }

  async load<T>(keys: CacheEntryKeys, cacher: Cacher<T>): Promise<T> {
    let bytes: Uint8Array;
    try {
      bytes = await this.storage.read(keys.data);
    } catch (cause) {
      throw new LabbookError("ARTIFACT_LOAD", `Cannot read cached output ${this.storage.describe(keys.data)}: rerun the stage with --overwrite-stage.`, {
        path: keys.data,
        cause,
      });
    }
    try {
      return await cacher.decode(bytes, this.storage.describe(keys.data));
    } catch (cause) {
      throw new LabbookError(
        "ARTIFACT_LOAD",
        `Cannot decode cached output ${this.storage.describe(keys.data)} with the "${cacher.name}" cacher: ${(cause as Error).message}. Rerun the stage with --overwrite-stage.`,
        { path: keys.data, cause },
      );
    }
  }

  async readMetadata(keys: CacheEntryKeys): Promise<CacheMetadata> {
    const bytes = await this.storage.read(keys.metadata);
    const parsed = cacheMetadataSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    if (!parsed.success) {
      throw new LabbookError("INVALID_FORMAT", `Bad cache metadata ${this.storage.describe(keys.metadata)}: ${parsed.error.message}`, {
        path: keys.metadata,
      });
    }
    return parsed.data;
  }

  /**
   * Store one output. Without `overwrite` both files are written create-only: an entry another
   * process completed first is kept as it is (same hash, same result). With `overwrite` each file is
   * replaced atomically.
   */
  async save(keys: CacheEntryKeys, value: unknown, cacher: Cacher, metadata: CacheMetadata, overwrite: boolean): Promise<void> {
    let data: Uint8Array;
    try {
      data = await toBytes(await cacher.encode(value));
    } catch (cause) {
      throw new LabbookError(
        "ARTIFACT_LOG",
        `Cannot cache output "${metadata.output}" of stage "${metadata.stage}" with the "${cacher.name}" cacher: ${(cause as Error).message}`,
        { path: keys.data, cause },
      );
    }
    await this.#write(keys.data, data, overwrite);
    await this.#write(keys.metadata, `${JSON.stringify(metadata, null, 2)}\n`, overwrite);
  }

  async #write(key: string, data: Uint8Array | string, overwrite: boolean): Promise<void> {
    if (overwrite) {
      await this.storage.write(key, data);
      return;
    }
    if (!this.storage.capabilities.conditionalWrites) {
      // Without create-only writes the best is to skip what exists; the write itself is still atomic.
      if (await this.storage.stat(key)) return;
      await this.storage.write(key, data);
      return;
    }
    try {
      await this.storage.write(key, data, { ifNoneMatch: "*" });
    } catch (error) {
      // Another process wrote the same entry first: its copy is as good as ours.
      if (!isLabbookError(error, "CONFLICT")) throw error;
    }
  }

  /** Every cached data and metadata key, in key order. */
  async *list(): AsyncIterable<string> {
    for await (const info of this.storage.list(this.dir === "" ? "" : `${this.dir}/`)) yield info.key;
  }
}
