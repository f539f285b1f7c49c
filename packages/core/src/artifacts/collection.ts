import { createHash } from "node:crypto";
import { formatCompact, formatDate } from "../dates.js";
import { isLabbookError, LabbookError } from "../errors.js";
import type { ArtifactEntry } from "../schemas.js";
import { slugify } from "../slug.js";
import { assertSafeRelativePath, type ByteSource, joinKey, type Storage, type WriteOptions } from "../storage.js";
import { createUnderFreeName } from "./free-name.js";
import type { ArtifactHandler, HandlerRegistry } from "./handler.js";
import { hashing, hashState, writeHashed } from "./hashed-write.js";

export { numberedFname } from "./free-name.js";

/** Where an artifact collection's files live and how they are read and written. */
export interface ArtifactContext {
  readonly storage: Storage;
  readonly handlers: HandlerRegistry;
}

export interface LogArtifactOptions {
  /** Handler alias: "json", "text", "bytes", "yaml", "csv" or one you registered. */
  handler: string;
  /** File name inside the experiment folder (sub-folders allowed). Default `<slug(name)>-<YYYYmmddHHMMSS>.<suffix>`. */
  fname?: string | undefined;
  /** Replace an artifact of the same name instead of failing with ARTIFACT_LOG. */
  overwrite?: boolean | undefined;
  /** Passed to the handler's writer, for example `{ indent: 2 }` for json. */
  writerOptions?: Readonly<Record<string, unknown>> | undefined;
}

const LOG_OPTION_KEYS: readonly string[] = ["handler", "fname", "overwrite", "writerOptions"];
const LOG_OPTION_KEYS_NO_OVERWRITE: readonly string[] = ["handler", "fname", "writerOptions"];

/** Where a stored artifact file is when it is not (yet) in its collection's own folder. */
export interface ArtifactLocation {
  readonly storage: Storage;
  readonly key: string;
}

/** One artifact entry plus, until it is saved, the value to write. */
export interface ArtifactSlot {
  readonly entry: ArtifactEntry;
  value: unknown;
  dirty: boolean;
  writerOptions: Record<string, unknown>;
  /**
   * The file at `entry.fname` in the collection's folder was created for this very value by an
   * earlier attempt of the save (its index write failed): a retry rewrites the same bytes there.
   */
  replaces?: boolean;
  /** The first variant of `entry.fname` worth trying (an overwrite starts after the name it replaces). */
  firstVariant?: number;
  /**
   * A merged-in artifact whose file still lives elsewhere (another project's folder): it is read
   * from there, and copied into the collection's own folder when its project saves.
   */
  source?: ArtifactLocation | undefined;
}

/** n when `fname` is `requested` (0) or its n-th variant (see numberedFname); undefined otherwise. */
export function variantNumber(requested: string, fname: string): number | undefined {
  if (fname === requested) return 0;
  const slash = requested.lastIndexOf("/");
  const dot = requested.lastIndexOf(".");
  const [stem, suffix] = dot > slash + 1 ? [requested.slice(0, dot), requested.slice(dot)] : [requested, ""];
  if (!fname.startsWith(`${stem}-`) || !fname.endsWith(suffix)) return undefined;
  const digits = fname.slice(stem.length + 1, fname.length - suffix.length);
  return /^[1-9]\d{0,8}$/.test(digits) ? Number(digits) : undefined;
}

/**
 * Slugs of artifact names seen lately: the same few names ("config", "model") are logged in every
 * experiment, and python-slugify's rules (transliteration, entities) cost microseconds per call.
 */
const nameSlugs = new Map<string, string>();
const NAME_SLUGS_MAX = 1024;

/** The default file name lazyscribe gives an artifact. */
export function defaultFname(name: string, createdAt: Date, suffix: string): string {
  let slug = nameSlugs.get(name);
  if (slug === undefined) {
    slug = slugify(name);
    if (nameSlugs.size >= NAME_SLUGS_MAX) nameSlugs.clear();
    nameSlugs.set(name, slug);
  }
  return `${slug}-${formatCompact(createdAt)}.${suffix}`;
}

/**
 * Names storages keep for themselves: a lock (`<index>.lock`, a folder on local disk) and a temp
 * file of a write under way (`*.lbtmp`). An artifact under such a name would be hidden from
 * listings, taken for a killed writer's leftover and deleted by gc, or block a lock.
 */
const RESERVED_SUFFIXES = [".lock", ".lbtmp"];

/** What logging checks of an artifact file name: it stays in its folder and is not a name storages keep. */
export function assertLoggableFname(fname: string): void {
  assertSafeRelativePath(fname, "artifact file name");
  assertNotReserved(fname);
}

function assertNotReserved(fname: string): void {
  const part = fname.split("/").find((p) => RESERVED_SUFFIXES.some((suffix) => p.toLowerCase().endsWith(suffix)));
  if (part === undefined) return;
  throw new LabbookError(
    "ARTIFACT_LOG",
    `Artifact file name ${JSON.stringify(fname)} is refused: "${part}" ends in ${RESERVED_SUFFIXES.join(" or ")}, which storages keep for lock files and temp files of writes under way. Choose another fname.`,
    { path: fname },
  );
}

/** Build a new, unsaved artifact slot. */
export function createSlot(
  handler: ArtifactHandler<unknown>,
  name: string,
  value: unknown,
  createdAt: Date,
  options: { fname?: string | undefined; version?: number; writerOptions?: Record<string, unknown> },
): ArtifactSlot {
  if (typeof name !== "string" || name.length === 0) {
    throw new LabbookError("ARTIFACT_LOG", "An artifact needs a non-empty name.");
  }
  const fname = options.fname ?? defaultFname(name, createdAt, handler.suffix);
  assertLoggableFname(fname);
  const entry: ArtifactEntry = {
    ...(handler.entryFields?.(value) ?? {}),
    created_at: formatDate(createdAt),
    expiry: null,
    fname,
    handler: handler.alias,
    name,
    version: options.version ?? 0,
  };
  return { entry, value, dirty: true, writerOptions: options.writerOptions ?? {} };
}

/** Who calls splitLogOptions: named in its errors, and whether `overwrite` is one of its options. */
export interface LogOptionsCaller {
  /** How errors name the call, e.g. `Repository logArtifact("model")`; default "logArtifact". */
  caller?: string | undefined;
  /** Whether `overwrite` is accepted (a repository adds versions instead); default true. */
  overwrite?: boolean | undefined;
}

/**
 * Split logArtifact's options into ours and the writer's, with the checks the types give for
 * callers without them (or with a cast): a misspelt option is refused, not passed to the writer.
 * One check for experiments, tests and repositories.
 */
export function splitLogOptions(
  options: LogArtifactOptions,
  context: LogOptionsCaller = {},
): {
  handler: string;
  fname: string | undefined;
  overwrite: boolean;
  writerOptions: Record<string, unknown>;
} {
  const caller = context.caller ?? "logArtifact";
  if (typeof options !== "object" || options === null) {
    throw new LabbookError("ARTIFACT_LOG", `${caller} needs options with a handler, for example { handler: "json" }.`);
  }
  const { handler, fname, overwrite, writerOptions } = options;
  if (typeof handler !== "string") throw new LabbookError("ARTIFACT_LOG", `${caller} needs a handler, for example { handler: "json" }.`);
  const keys = context.overwrite === false ? LOG_OPTION_KEYS_NO_OVERWRITE : LOG_OPTION_KEYS;
  const unknown = Object.keys(options).filter((key) => !keys.includes(key));
  if (unknown.length > 0) {
    const takes = `${keys.slice(0, -1).join(", ")} and ${keys[keys.length - 1]}`;
    throw new LabbookError(
      "ARTIFACT_LOG",
      `${caller} does not know the option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}: it takes ${takes}. Options for the handler's writer go in writerOptions, for example { handler: "json", writerOptions: { indent: 2 } }.`,
    );
  }
  if (writerOptions !== undefined && (typeof writerOptions !== "object" || writerOptions === null || Array.isArray(writerOptions))) {
    throw new LabbookError(
      "ARTIFACT_LOG",
      `${caller}: writerOptions must be an object, not ${Array.isArray(writerOptions) ? "an array" : String(writerOptions)}.`,
    );
  }
  return { handler, fname, overwrite: overwrite === true, writerOptions: { ...writerOptions } };
}

/** Where an artifact of one experiment is, for copies of it made by a merge. */
export interface ArtifactOrigin {
  readonly storage: Storage;
  readonly key: string;
  readonly slot: ArtifactSlot;
}

/** Copy a stored artifact file (checked against its size/sha256) to `key`. */
async function copySlot(storage: Storage, entry: ArtifactEntry, source: ArtifactLocation, key: string, options: WriteOptions): Promise<void> {
  const where = storage.describe(key);
  try {
    const stream = await readSlotStream(source.storage, entry, source.key);
    await storage.write(key, stream, entry.size === undefined ? options : { ...options, size: entry.size });
  } catch (cause) {
    if (isLabbookError(cause, "UNSAFE_PATH", "CONFLICT")) throw cause;
    throw new LabbookError(
      "SAVE_FAILED",
      `Could not copy artifact "${entry.name}" from ${source.storage.describe(source.key)} to ${where}: ${(cause as Error).message}`,
      { path: where, cause },
    );
  }
}

function isSafeRelativePath(name: string): boolean {
  try {
    assertSafeRelativePath(name, "artifact file name");
    return true;
  } catch {
    return false;
  }
}

/**
 * Serialise and write a slot to `key`, recording `size` and `sha256` in its entry.
 * Any failure is SAVE_FAILED naming the artifact and the location; `options` go to the storage write
 * (e.g. `ifNoneMatch: "*"` to never replace an existing file).
 */
export async function writeSlot(context: ArtifactContext, slot: ArtifactSlot, key: string, options: WriteOptions = {}): Promise<void> {
  const where = context.storage.describe(key);
  let data: ByteSource;
  try {
    const handler = context.handlers.forLog(slot.entry.handler, slot.entry.name);
    data = await handler.write(slot.value, slot.writerOptions);
  } catch (cause) {
    throw new LabbookError("SAVE_FAILED", `Could not serialise artifact "${slot.entry.name}" for ${where}: ${(cause as Error).message}`, {
      path: where,
      cause,
    });
  }
  try {
    const { size, sha256 } = await writeHashed(context.storage, key, data, options);
    slot.entry.size = size;
    slot.entry.sha256 = sha256;
  } catch (cause) {
    // CONFLICT is the caller's to handle (a create-only write found the name taken).
    if (isLabbookError(cause, "UNSAFE_PATH", "CONFLICT")) throw cause;
    throw new LabbookError("SAVE_FAILED", `Could not write artifact "${slot.entry.name}" to ${where}: ${(cause as Error).message}`, { path: where, cause });
  }
}

function verify(entry: ArtifactEntry, size: number, digest: () => string, where: string): void {
  if (entry.size !== undefined && entry.size !== size) {
    throw new LabbookError(
      "ARTIFACT_LOAD",
      `Artifact "${entry.name}" at ${where} has ${size} bytes but its entry records ${entry.size}: the file was changed or truncated.`,
      { path: where },
    );
  }
  if (entry.sha256 !== undefined && entry.sha256 !== digest()) {
    throw new LabbookError("ARTIFACT_LOAD", `Artifact "${entry.name}" at ${where} does not match the sha256 recorded in its entry: the file was changed.`, {
      path: where,
    });
  }
}

/** Bytes of a stored artifact, checked against `size`/`sha256` when the entry has them. */
export async function readSlotBytes(storage: Storage, entry: ArtifactEntry, key: string): Promise<Uint8Array> {
  const where = storage.describe(key);
  let bytes: Uint8Array;
  try {
    bytes = await storage.read(key);
  } catch (cause) {
    if (isLabbookError(cause, "UNSAFE_PATH")) throw cause;
    throw new LabbookError("ARTIFACT_LOAD", `Cannot read artifact "${entry.name}" at ${where}: ${(cause as Error).message}`, { path: where, cause });
  }
  verify(entry, bytes.byteLength, () => createHash("sha256").update(bytes).digest("hex"), where);
  return bytes;
}

/** A stored artifact as a stream; the check against `size`/`sha256` happens at the end of the stream. */
export async function readSlotStream(storage: Storage, entry: ArtifactEntry, key: string): Promise<AsyncIterable<Uint8Array>> {
  const where = storage.describe(key);
  let source: AsyncIterable<Uint8Array>;
  try {
    source = await storage.readStream(key);
  } catch (cause) {
    if (isLabbookError(cause, "UNSAFE_PATH")) throw cause;
    throw new LabbookError("ARTIFACT_LOAD", `Cannot read artifact "${entry.name}" at ${where}: ${(cause as Error).message}`, { path: where, cause });
  }
  return (async function* () {
    const state = hashState();
    yield* hashing(source, state);
    verify(entry, state.size, () => state.hash.digest("hex"), where);
  })();
}

/**
 * The artifacts of one experiment or test: logging, lazy loading, saving. Shared by Experiment and
 * Test so both follow one set of rules.
 */
export class ArtifactCollection {
  readonly slots: ArtifactSlot[];

  constructor(
    entries: ArtifactEntry[],
    private readonly folder: () => string,
  ) {
    this.slots = entries.map((entry) => ({ entry, value: undefined, dirty: false, writerOptions: {} }));
  }

  /** Entries as stored (the same objects the record holds). */
  entries(): ArtifactEntry[] {
    return this.slots.map((s) => s.entry);
  }

  find(name: string): ArtifactSlot | undefined {
    return this.slots.find((s) => s.entry.name === name);
  }

  /** The key of a slot's file in this collection's folder; UNSAFE_PATH when its fname would leave the folder. */
  keyOf(slot: ArtifactSlot): string {
    assertSafeRelativePath(slot.entry.fname, "artifact file name");
    return joinKey(this.folder(), slot.entry.fname);
  }

  /** Where a saved slot's bytes are read from now. */
  #readFrom(context: ArtifactContext, slot: ArtifactSlot): ArtifactLocation {
    return slot.source ?? { storage: context.storage, key: this.keyOf(slot) };
  }

  /** Add a slot; a duplicate name without overwrite is ARTIFACT_LOG. Returns the new entries array. */
  add(slot: ArtifactSlot, overwrite: boolean, owner: string): ArtifactEntry[] {
    const index = this.slots.findIndex((s) => s.entry.name === slot.entry.name);
    if (index >= 0) {
      if (!overwrite) {
        throw new LabbookError(
          "ARTIFACT_LOG",
          `${owner} already has an artifact named "${slot.entry.name}". Use another name or pass { overwrite: true } to replace it.`,
        );
      }
      // The new value always goes to a new file (a free variant of its name): the file the previous
      // value is in may be named by a committed index until the next one lands, so it is never
      // rewritten; it is left for gc. Trying from the next variant on keeps repeated overwrites at one try.
      const previous = variantNumber(slot.entry.fname, (this.slots[index] as ArtifactSlot).entry.fname);
      if (previous !== undefined) slot.firstVariant = previous + 1;
      this.slots[index] = slot;
    } else {
      this.slots.push(slot);
    }
    return this.entries();
  }

  /** Load a value: an unsaved one comes from memory, a saved one is read now (never on open). */
  async load(context: ArtifactContext, name: string, owner: string): Promise<unknown> {
    const slot = this.find(name);
    if (!slot) {
      throw new LabbookError("ARTIFACT_LOAD", `${owner} has no artifact named "${name}". It has: ${this.slots.map((s) => s.entry.name).join(", ") || "none"}.`);
    }
    if (slot.dirty) return slot.value;
    const { storage, key } = this.#readFrom(context, slot);
    const where = storage.describe(key);
    const handler = context.handlers.forLoad(slot.entry.handler, name, where);
    const entry = slot.entry;
    return handler.read({
      entry,
      location: where,
      bytes: () => readSlotBytes(storage, entry, key),
      stream: () => readSlotStream(storage, entry, key),
    });
  }

  /** Raw stored bytes as a stream, for large artifacts of any handler. */
  async openStream(context: ArtifactContext, name: string, owner: string): Promise<AsyncIterable<Uint8Array>> {
    const slot = this.find(name);
    if (!slot) throw new LabbookError("ARTIFACT_LOAD", `${owner} has no artifact named "${name}".`);
    if (slot.dirty) throw new LabbookError("ARTIFACT_LOAD", `Artifact "${name}" of ${owner} is not saved yet; save the project first.`);
    const { storage, key } = this.#readFrom(context, slot);
    return readSlotStream(storage, slot.entry, key);
  }

  dirtySlots(): ArtifactSlot[] {
    return this.slots.filter((s) => s.dirty);
  }

  /** Slots with something to write: an unsaved value, or a file to copy in from elsewhere. */
  pendingSlots(): ArtifactSlot[] {
    return this.slots.filter((s) => s.dirty || s.source !== undefined);
  }

  /**
   * Write unsaved values (and, with `copyIn`, copy merged-in files into this folder). A new file
   * never replaces an existing one: it is created only if its name is free, else it gets the first
   * free `-1`, `-2`… variant, recorded in `entry.fname` before the index is written. Two experiments
   * sharing a slug (same name, same second) share a folder, so this is what keeps their files apart.
   */
  async saveDirty(context: ArtifactContext, copyIn = true): Promise<void> {
    for (const slot of this.slots) {
      if (slot.dirty) {
        if (slot.replaces) await writeSlot(context, slot, this.keyOf(slot));
        else await this.#createFree(context, slot, (key, options) => writeSlot(context, slot, key, options));
      } else if (slot.source !== undefined && copyIn) {
        const source = slot.source;
        await this.#createFree(context, slot, (key, options) => copySlot(context.storage, slot.entry, source, key, options));
        slot.source = undefined;
      }
    }
  }

  async #createFree(context: ArtifactContext, slot: ArtifactSlot, write: (key: string, options: WriteOptions) => Promise<void>): Promise<void> {
    const { fname } = await createUnderFreeName({
      storage: context.storage,
      folder: this.folder(),
      requested: slot.entry.fname,
      first: slot.firstVariant,
      name: slot.entry.name,
      write,
    });
    slot.entry.fname = fname;
    // The file is ours now: a retried save (index commit failed) rewrites it instead of making another.
    slot.replaces = true;
  }

  /**
   * Take over where the artifacts of `originals` (entries of other experiments, in this collection's
   * order) are: unsaved values are carried over, saved files are read from where they are until saved here.
   */
  adopt(originals: readonly ArtifactEntry[], origins: ReadonlyMap<ArtifactEntry, ArtifactOrigin>, storage: Storage): void {
    this.slots.forEach((slot, i) => {
      const original = originals[i];
      const origin = original === undefined ? undefined : origins.get(original);
      if (!origin) return;
      const here = origin.storage === storage && origin.key === joinKey(this.folder(), slot.entry.fname);
      if (origin.slot.dirty) {
        slot.value = origin.slot.value;
        slot.dirty = true;
        slot.writerOptions = { ...origin.slot.writerOptions };
        if (here && origin.slot.replaces) slot.replaces = true;
        return;
      }
      const source = origin.slot.source ?? { storage: origin.storage, key: origin.key };
      if (source.storage !== storage || source.key !== joinKey(this.folder(), slot.entry.fname)) slot.source = source;
    });
  }

  /** Where each of this collection's artifacts is now, keyed by entry (see adopt). */
  origins(storage: Storage, into: Map<ArtifactEntry, ArtifactOrigin>): void {
    for (const slot of this.slots) {
      // An unsafe fname gets no origin, so loading it fails with UNSAFE_PATH instead of reading anything.
      if (isSafeRelativePath(slot.entry.fname)) into.set(slot.entry, { storage, key: joinKey(this.folder(), slot.entry.fname), slot });
    }
  }

  markClean(): void {
    for (const slot of this.slots) {
      if (slot.dirty) {
        slot.dirty = false;
        slot.value = undefined;
      }
    }
  }
}
