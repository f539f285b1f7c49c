import {
  type ArtifactEntry,
  DEFAULT_MAX_INDEX_BYTES,
  dirnameKey,
  type HandlerRegistry,
  isLabbookError,
  joinKey,
  LabbookError,
  parseDate,
  parsePyJson,
  type Storage,
  stringifyPyJson,
  type WriteOptions,
} from "@labbook/core";
import {
  catchUpIndex,
  commitIndex,
  createUnderFreeName,
  decodeIndexText,
  fillArtifactDefaults,
  forEachLimit,
  validateFile,
  writeHashed,
  writeSlot,
} from "@labbook/core/internal";
import { storedRepositoryFileSchema } from "@labbook/core/schemas";
import { type VersionIndex as Index, resolveVersion, VersionIndex, type VersionQuery } from "./lookup.js";
import { notNewer, type Slot, sameFile, slotFromEntry } from "./slot.js";

/** Artifact names written at once by save(). */
const ARTIFACT_WRITE_CONCURRENCY = 16;

/**
 * An index file's text and version; undefined when there is none. Read like a project index: a huge
 * (or endless) file fails typed before any read, and invalid UTF-8 or a byte order mark is
 * INVALID_FORMAT (a lenient decode would change the file on the next rewrite).
 */
export async function readIndexFile(storage: Storage, key: string): Promise<{ text: string; version: string } | undefined> {
  try {
    const stored = await storage.readVersioned(key, { maxBytes: DEFAULT_MAX_INDEX_BYTES });
    return { text: decodeIndexText(stored.data, storage.describe(key)), version: stored.version };
  } catch (error) {
    if (isLabbookError(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}

export interface RepositoryIndexOptions {
  readonly storage: Storage;
  /** The key of repository.json. */
  readonly location: string;
  readonly handlers: HandlerRegistry;
  readonly clock: () => Date;
  readonly maxRetries: number;
  /** Commit with conditional writes and catch-up (false in mode "w": the index is replaced). */
  readonly conditional: boolean;
}

/**
 * repository.json and the version files it names: what is stored, what is pending, and saving it
 * (files first, then the index, committed conditionally with catch-up after a conflict).
 */
export class RepositoryIndex {
  readonly storage: Storage;
  readonly location: string;
  readonly handlers: HandlerRegistry;
  readonly #clock: () => Date;
  readonly #maxRetries: number;
  readonly #conditional: boolean;
  #slots: Slot[] = [];
  #byName = new Map<string, Slot[]>();
  #indexes = new Map<string, Index<Slot>>();
  #version: string | undefined;
  /** Expiry changes to stored versions, by `name\0version`, re-applied if another writer commits first. */
  #expiryEdits = new Map<string, string>();

  constructor(options: RepositoryIndexOptions) {
    this.storage = options.storage;
    this.location = options.location;
    this.handlers = options.handlers;
    this.#clock = options.clock;
    this.#maxRetries = options.maxRetries;
    this.#conditional = options.conditional && options.storage.capabilities.conditionalWrites;
  }

  /** Where the index file is, for people. */
  get path(): string {
    return this.storage.describe(this.location);
  }

  /** The folder key holding one folder per artifact name. */
  get dir(): string {
    return dirnameKey(this.location);
  }

  get slots(): readonly Slot[] {
    return this.#slots;
  }

  /** The stored version this state is based on (undefined before the first save). */
  get version(): string | undefined {
    return this.#version;
  }

  /** True while something logged or changed is not saved yet. */
  get dirty(): boolean {
    return this.#expiryEdits.size > 0 || this.#slots.some((s) => s.pending);
  }

  /** Read the stored index; false when there is none. */
  async load(): Promise<boolean> {
    const stored = await this.#readStored();
    if (!stored) return false;
    this.#setSlots(stored.slots);
    this.#version = stored.version;
    return true;
  }

  /** Hold exactly these slots, based on `version` (a filtered view). */
  reset(slots: Slot[], version: string | undefined): void {
    this.#setSlots(slots);
    this.#version = version;
  }

  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The versions of `name` in logging order (empty for an unknown name). */
  versionsOf(name: string): readonly Slot[] {
    return this.#byName.get(name) ?? [];
  }

  #setSlots(slots: Slot[]): void {
    this.#slots = slots;
    this.#byName = new Map();
    for (const s of slots) {
      const list = this.#byName.get(s.entry.name);
      if (list) list.push(s);
      else this.#byName.set(s.entry.name, [s]);
    }
    this.#indexes = new Map();
  }

  add(slot: Slot): void {
    this.#slots.push(slot);
    const list = this.#byName.get(slot.entry.name);
    if (list) list.push(slot);
    else this.#byName.set(slot.entry.name, [slot]);
    this.#indexes.delete(slot.entry.name);
  }

  remove(slot: Slot): void {
    this.#setSlots(this.#slots.filter((s) => s !== slot));
  }

  /** The versions of `name` sorted by created_at; NOT_FOUND for an unknown name. */
  index(name: string): Index<Slot> {
    let index = this.#indexes.get(name);
    if (!index) {
      const list = this.#byName.get(name);
      if (!list) {
        throw new LabbookError("NOT_FOUND", `No artifact named "${name}" in repository ${this.path}. It has: ${this.names().join(", ") || "none"}.`, {
          path: this.path,
        });
      }
      index = new VersionIndex(list);
      this.#indexes.set(name, index);
    }
    return index;
  }

  find(name: string, query: VersionQuery = {}): Slot {
    return resolveVersion(this.index(name), name, query, this.#clock(), this.path);
  }

  fileKey(entry: ArtifactEntry): string {
    return joinKey(this.dir, entry.name, entry.fname);
  }

  /** Set a version's expiry (formatted text); a stored version's change is written by the next save. */
  setExpiry(slot: Slot, text: string): void {
    slot.entry.expiry = text;
    slot.expiry = parseDate(text).getTime();
    if (!slot.pending) this.#expiryEdits.set(`${slot.entry.name}\0${slot.entry.version}`, text);
  }

  /** The index exactly as save() would write it (sorted keys, 4-space indent, ASCII), lazyscribe's layout. */
  serialize(): string {
    return stringifyPyJson(
      this.#slots.map((s) => s.entry),
      { indent: 4, sortKeys: true },
    );
  }

  /** See Repository.save. */
  async save(): Promise<void> {
    const pending = this.#slots.filter((s) => s.pending);
    if (pending.length === 0 && this.#expiryEdits.size === 0 && this.#version !== undefined) return;
    try {
      // A slot with a sha256 kept its file from an earlier save whose index write may have landed.
      // Names are written in parallel; versions of one name in order, since each picks its file name
      // and content twin from the ones before it.
      const byName = new Map<string, Slot[]>();
      for (const slot of pending) if (slot.entry.sha256 === undefined) byName.set(slot.entry.name, [...(byName.get(slot.entry.name) ?? []), slot]);
      await forEachLimit([...byName.values()], ARTIFACT_WRITE_CONCURRENCY, async (slots) => {
        for (const slot of slots) await this.#writeArtifact(slot);
      });
      await this.#commitIndex();
    } catch (error) {
      // Undo only the slots the stored index cannot name: an index write whose answer was lost (in
      // this save or an earlier one) may have landed, and deleting its files would leave the index
      // pointing at nothing. Those stay, file and all, so the next save adopts or commits them.
      const landed = await this.#mayHaveLanded(pending);
      const undone = pending.filter((slot) => !landed.has(slot));
      await Promise.all(undone.map((slot) => (slot.ownFile === undefined ? undefined : this.storage.delete(slot.ownFile).catch(() => undefined))));
      for (const slot of undone) {
        slot.entry.fname = slot.requested;
        slot.ownFile = undefined;
        slot.sent = false;
        delete slot.entry.size;
        delete slot.entry.sha256;
      }
      throw error;
    }
    for (const slot of pending) {
      slot.pending = false;
      slot.value = undefined;
      slot.writerOptions = {};
      slot.source = undefined;
      slot.ownFile = undefined;
      slot.sent = false;
    }
    this.#expiryEdits.clear();
  }

  /**
   * After a failed save: the pending slots the stored index may name. Only a slot some index write
   * named can be there; for those the index is read (unreadable counts as "it may").
   */
  async #mayHaveLanded(pending: Slot[]): Promise<Set<Slot>> {
    const sent = pending.filter((s) => s.sent && s.entry.sha256 !== undefined);
    if (sent.length === 0) return new Set();
    try {
      const stored = await this.#readStored();
      return new Set(sent.filter((s) => stored?.slots.some((u) => sameFile(u.entry, s.entry)) ?? false));
    } catch {
      return new Set(sent);
    }
  }

  async #writeArtifact(slot: Slot): Promise<void> {
    const siblings = (this.#byName.get(slot.entry.name) ?? []).filter((s) => s !== slot);
    const taken = new Set(siblings.filter((s) => !s.pending || s.entry.sha256 !== undefined).map((s) => s.entry.fname));
    const { fname, key } = await createUnderFreeName({
      storage: this.storage,
      folder: joinKey(this.dir, slot.entry.name),
      requested: slot.requested,
      taken: (f) => taken.has(f),
      name: slot.entry.name,
      write: (at, options) => this.#writeOne(slot, at, options),
    });
    slot.entry.fname = fname;
    slot.ownFile = key;
    const twin = siblings.find((s) => s.entry.sha256 === slot.entry.sha256 && s.entry.size === slot.entry.size && s.entry.fname !== fname);
    if (twin) {
      // Content addressing: same bytes as a stored version, so point at its file instead.
      await this.storage.delete(key);
      slot.ownFile = undefined;
      slot.entry.fname = twin.entry.fname;
    }
  }

  async #writeOne(slot: Slot, key: string, options: WriteOptions): Promise<void> {
    if (!slot.source) {
      await writeSlot(
        { storage: this.storage, handlers: this.handlers },
        { entry: slot.entry, value: slot.value, dirty: true, writerOptions: slot.writerOptions },
        key,
        options,
      );
      return;
    }
    const where = this.storage.describe(key);
    try {
      const written = await writeHashed(this.storage, key, await slot.source(), options);
      slot.entry.size = written.size;
      slot.entry.sha256 = written.sha256;
    } catch (cause) {
      if (isLabbookError(cause, "CONFLICT", "UNSAFE_PATH")) throw cause;
      throw new LabbookError("SAVE_FAILED", `Could not copy artifact "${slot.entry.name}" to ${where}: ${(cause as Error).message}`, { path: where, cause });
    }
  }

  async #readStored(): Promise<{ slots: Slot[]; version: string } | undefined> {
    const stored = await readIndexFile(this.storage, this.location);
    if (!stored) return undefined;
    const entries = validateFile(storedRepositoryFileSchema, parsePyJson(stored.text, this.path), this.path);
    // Fields lazyscribe defaults (expiry, version, fname) are filled in as it does.
    for (const e of entries) fillArtifactDefaults(e, { handlers: this.handlers, author: "", path: this.path });
    return { slots: (entries as ArtifactEntry[]).map((e, i) => slotFromEntry(e, this.path, i)), version: stored.version };
  }

  async #commitIndex(): Promise<void> {
    this.#version = await commitIndex({
      storage: this.storage,
      key: this.location,
      conditional: this.#conditional,
      maxRetries: this.#maxRetries,
      catchUp: () =>
        catchUpIndex({
          storage: this.storage,
          key: this.location,
          known: this.#version,
          read: () => this.#readStored(),
          gone: () => {
            this.#version = undefined;
          },
          merge: (stored) => this.#takeIn(stored),
        }),
      version: () => this.#version,
      serialize: () => this.serialize(),
      beforeWrite: () => {
        for (const s of this.#slots) if (s.pending) s.sent = true;
      },
    });
  }

  /**
   * Take in what other writers committed since we read the index: their entries as stored, our
   * expiry changes on top, and our unsaved versions renumbered after the stored maximum per name.
   */
  #takeIn(stored: { slots: Slot[]; version: string }): void {
    const byKey = new Map<string, Slot>();
    const max = new Map<string, number>();
    for (const s of stored.slots) {
      const key = `${s.entry.name}\0${s.entry.version}`;
      if (!byKey.has(key)) byKey.set(key, s);
      max.set(s.entry.name, Math.max(max.get(s.entry.name) ?? -1, s.entry.version));
    }
    for (const [key, expiry] of this.#expiryEdits) {
      const s = byKey.get(key);
      if (!s) continue;
      s.entry.expiry = expiry;
      s.expiry = parseDate(expiry).getTime();
    }
    // An earlier attempt of this save may have committed although its answer was lost (a reset or
    // 500 after the server wrote, then retried into a 412): our entries, same file and bytes, are
    // already stored under versions we did not know. Adopt those instead of appending them twice.
    const known = new Set(this.#slots.filter((s) => !s.pending).map((s) => `${s.entry.name}\0${s.entry.version}`));
    const unclaimed = stored.slots.filter((s) => !known.has(`${s.entry.name}\0${s.entry.version}`));
    const mine: Slot[] = [];
    for (const s of this.#slots.filter((slot) => slot.pending)) {
      const at = s.entry.sha256 === undefined ? -1 : unclaimed.findIndex((u) => sameFile(u.entry, s.entry));
      if (at < 0) {
        mine.push(s);
        continue;
      }
      const [committed] = unclaimed.splice(at, 1) as [Slot];
      s.entry.version = committed.entry.version;
      stored.slots[stored.slots.indexOf(committed)] = s;
    }
    // The promote() refusal again, against what is stored now: a concurrent promote of the same or a
    // newer artifact must not be followed by ours as a later version.
    const now = this.#clock().getTime();
    for (const s of mine) {
      if (!s.promoted) continue;
      const latest = stored.slots
        .filter((u) => u.entry.name === s.entry.name && (u.expiry === undefined || now < u.expiry))
        .reduce<Slot | undefined>((best, u) => (best === undefined || u.time >= best.time ? u : best), undefined);
      if (latest && latest.time >= s.time) throw notNewer(s.entry, latest.entry, this.path);
    }
    for (const s of mine) {
      const next = (max.get(s.entry.name) ?? -1) + 1;
      s.entry.version = next;
      max.set(s.entry.name, next);
    }
    this.#setSlots([...stored.slots, ...mine]);
    this.#version = stored.version;
  }
}
