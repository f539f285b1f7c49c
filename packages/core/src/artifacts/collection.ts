import { createHash } from "node:crypto";
import { formatCompact, formatDate } from "../dates.js";
import { LabbookError } from "../errors.js";
import type { ArtifactEntry } from "../schemas.js";
import { slugify } from "../slug.js";
import { assertSafeRelativePath, type ByteSource, joinKey, type Storage, type WriteOptions } from "../storage.js";
import type { ArtifactHandler, HandlerRegistry } from "./handler.js";

/** Where an artifact collection's files live and how they are read and written. */
export interface ArtifactContext {
  readonly storage: Storage;
  readonly handlers: HandlerRegistry;
}

export interface LogArtifactOptions {
  /** Handler alias: "json", "text", "bytes", "yaml", "csv" or one you registered. */
  handler: string;
  /** File name inside the experiment folder (sub-folders allowed). Default `<slug(name)>-<YYYYmmddHHMMSS>.<suffix>`. */
  fname?: string;
  /** Replace an artifact of the same name instead of failing with ARTIFACT_LOG. */
  overwrite?: boolean;
  /** Anything else is passed to the handler's writer. */
  [writerOption: string]: unknown;
}

/** One artifact entry plus, until it is saved, the value to write. */
export interface ArtifactSlot {
  readonly entry: ArtifactEntry;
  value: unknown;
  dirty: boolean;
  writerOptions: Record<string, unknown>;
}

/** The default file name lazyscribe gives an artifact. */
export function defaultFname(name: string, createdAt: Date, suffix: string): string {
  return `${slugify(name)}-${formatCompact(createdAt)}.${suffix}`;
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
  assertSafeRelativePath(fname, "artifact file name");
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

/** Split logArtifact's options into ours and the writer's. */
export function splitLogOptions(options: LogArtifactOptions): {
  handler: string;
  fname: string | undefined;
  overwrite: boolean;
  writerOptions: Record<string, unknown>;
} {
  const { handler, fname, overwrite, ...writerOptions } = options;
  if (typeof handler !== "string") throw new LabbookError("ARTIFACT_LOG", 'logArtifact needs a handler, for example { handler: "json" }.');
  return { handler, fname, overwrite: overwrite === true, writerOptions };
}

async function* hashing(source: AsyncIterable<Uint8Array>, state: { hash: ReturnType<typeof createHash>; size: number }): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    state.hash.update(chunk);
    state.size += chunk.byteLength;
    yield chunk;
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
    const state = { hash: createHash("sha256"), size: 0 };
    if (typeof data === "string" || data instanceof Uint8Array) {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      state.hash.update(bytes);
      state.size = bytes.byteLength;
      await context.storage.write(key, bytes, options);
    } else {
      await context.storage.write(key, hashing(data, state), options);
    }
    slot.entry.size = state.size;
    slot.entry.sha256 = state.hash.digest("hex");
  } catch (cause) {
    if (cause instanceof LabbookError && cause.code === "UNSAFE_PATH") throw cause;
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
    throw new LabbookError("ARTIFACT_LOAD", `Cannot read artifact "${entry.name}" at ${where}: ${(cause as Error).message}`, { path: where, cause });
  }
  return (async function* () {
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.byteLength;
      yield chunk;
    }
    verify(entry, size, () => hash.digest("hex"), where);
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

  keyOf(slot: ArtifactSlot): string {
    return joinKey(this.folder(), slot.entry.fname);
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
    const key = this.keyOf(slot);
    const where = context.storage.describe(key);
    const handler = context.handlers.forLoad(slot.entry.handler, name, where);
    const entry = slot.entry;
    return handler.read({
      entry,
      location: where,
      bytes: () => readSlotBytes(context.storage, entry, key),
      stream: () => readSlotStream(context.storage, entry, key),
    });
  }

  /** Raw stored bytes as a stream, for large artifacts of any handler. */
  async openStream(context: ArtifactContext, name: string, owner: string): Promise<AsyncIterable<Uint8Array>> {
    const slot = this.find(name);
    if (!slot) throw new LabbookError("ARTIFACT_LOAD", `${owner} has no artifact named "${name}".`);
    if (slot.dirty) throw new LabbookError("ARTIFACT_LOAD", `Artifact "${name}" of ${owner} is not saved yet; save the project first.`);
    return readSlotStream(context.storage, slot.entry, this.keyOf(slot));
  }

  dirtySlots(): ArtifactSlot[] {
    return this.slots.filter((s) => s.dirty);
  }

  async saveDirty(context: ArtifactContext): Promise<void> {
    for (const slot of this.slots) {
      if (!slot.dirty) continue;
      await writeSlot(context, slot, this.keyOf(slot));
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
