import { createHash, randomBytes } from "node:crypto";
import { type BigIntStats, closeSync, constants, fstatSync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { access, type FileHandle, mkdir, open, readdir, readlink, realpath, unlink } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import {
  assertSafeKey,
  type ByteSource,
  LabbookError,
  type ObjectInfo,
  type ReadOptions,
  type Storage,
  type StorageCapabilities,
  tooLargeError,
  type WriteOptions,
  type WriteResult,
} from "@labbook/core";
import fse from "fs-extra";
import lockfile from "proper-lockfile";

export interface LocalStorageOptions {
  /** A lock older than this (ms) is taken to belong to a crashed process and is broken. Default 10 000. */
  staleLockMs?: number | undefined;
  /**
   * When to fsync a written file and its folder before returning: "durable" (default) for writes
   * the caller marks durable (index commits), "all" for every write, "none" never. Renames are
   * atomic whatever this says; fsync is about surviving a power cut, not a killed process.
   */
  fsync?: "durable" | "all" | "none" | undefined;
  /**
   * In-memory writes up to this many bytes that need no fsync are made with synchronous file calls
   * (default 65 536; 0 turns it off). Each asynchronous call is a round trip through Node's thread
   * pool, which costs more than the call itself for a small file on a local disk; a synchronous one
   * holds the event loop only for as long as the disk takes. Set 0 on a network file system, where
   * one call can stall for long.
   */
  syncWriteBytes?: number | undefined;
}

const TEMP_SUFFIX = ".lbtmp";

/**
 * Temp names: a random per-process prefix and a counter. Unique across the processes and machines
 * sharing a folder without asking for randomness per file; the temp file is opened create-only, so
 * even a collision could not overwrite anything.
 */
let tempPrefix: string | undefined;
let tempCounter = 0;
function tempName(file: string): string {
  tempPrefix ??= `${process.pid}.${randomBytes(6).toString("hex")}`;
  tempCounter = (tempCounter + 1) % Number.MAX_SAFE_INTEGER;
  const slash = file.lastIndexOf(path.sep);
  return `${file.slice(0, slash + 1)}.${file.slice(slash + 1)}.${tempPrefix}${tempCounter.toString(36)}${TEMP_SUFFIX}`;
}
const LOCK_SUFFIX = ".lock";

/*
 * Version tokens. `ino:size:mtimeNs` alone can repeat: ext4 hands a freed inode to the next file
 * made, and mtime moves in ticks of the kernel's coarse clock (1-10 ms), so a file replaced twice
 * within one tick, at the same size, can get its old token back, and a stale replace-if-unchanged
 * would then pass. As git does with "racy" index entries, the stat alone is trusted only when the
 * file's mtime is safely in the past at the moment the token is taken (clock read BEFORE the stat:
 * any later file, or later write in place, is stamped at least then, minus one tick). Otherwise the
 * token also carries the sha256 of the content, `ino:size:mtimeNs:<hex>`, and the conditional
 * replace hashes the current file under the lock when the stat part matches.
 *
 * The window is 1 s, far more than a clock tick needs: it also covers the skew between this
 * machine's clock and a file server's that stamps the file, and it is how long a token handed out
 * by a write keeps agreeing with stat() and readVersioned() of the same file (they add the digest
 * only while the file is racy; afterwards they give the plain token). Hashing costs only for files
 * changed within the window. An mtime on a whole second means a file system with 1 s or 2 s stamps
 * (FAT, ext4 with small inodes, some NFS), where a tick is that long: such files stay racy for 3 s.
 */
const RACY_NS = 1_000_000_000n;
const COARSE_RACY_NS = 3_000_000_000n;

/** The wall clock in ns, as a lower bound (Date.now truncates): read it before the stat it judges. */
function clockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Whether `stat`, taken after the clock read `before`, is too recent for its stat part to be unique. */
function isRacy(stat: BigIntStats, before: bigint): boolean {
  const window = stat.mtimeNs % 1_000_000_000n === 0n ? COARSE_RACY_NS : RACY_NS;
  return stat.mtimeNs >= before - window; // a stamp in the future (another clock) is racy too
}

function statPart(stat: BigIntStats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
}

function versionOf(stat: BigIntStats, digest?: string): string {
  return digest === undefined ? statPart(stat) : `${statPart(stat)}:${digest}`;
}

function digestOf(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** sha256 of the first `size` bytes of an open file (never more: a file growing in place cannot keep the read going). */
async function digestOfFile(handle: FileHandle, size: number): Promise<string> {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(Math.min(Math.max(size, 1), 1024 * 1024));
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest("hex");
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

// Non-blocking, so opening a FIFO returns at once instead of waiting for a writer (no effect on regular files).
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function kindOf(stat: BigIntStats): string {
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "not a regular file";
}

/** `name` in the normal absolute path `folder` (path.join without its normalising, which a hot path pays per file). */
function childOf(folder: string, name: string): string {
  return folder.endsWith(path.sep) ? folder + name : folder + path.sep + name;
}

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Node's recursive mkdir reports ENOENT when a read-only file system refuses a folder, which reads as
 * "no file". Ask the nearest existing folder why, so the message says read-only (or no permission).
 */
async function folderError(dir: string, error: unknown): Promise<unknown> {
  if (errno(error) !== "ENOENT") return error;
  let existing = path.dirname(dir);
  while (!(await fse.pathExists(existing)) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    await access(existing, constants.W_OK);
  } catch (why) {
    return Object.assign(new Error(`cannot create folder ${dir}: ${(why as Error).message}`), { code: errno(why), cause: error });
  }
  return error;
}

/**
 * The real path of `file`, following every symlink, also when the file (or a folder of it) does not
 * exist yet or is a dangling link: the part that exists is resolved, the rest appended. Two system
 * calls in the common case (realpath of the folder, readlink of the name).
 */
async function resolveReal(file: string, hops = 0): Promise<string> {
  const parent = path.dirname(file);
  if (parent === file) return file;
  let realParent: string;
  try {
    realParent = await realpath(parent);
  } catch (error) {
    if (errno(error) !== "ENOENT" && errno(error) !== "ENOTDIR") throw error;
    realParent = await resolveReal(parent, hops);
  }
  const candidate = path.join(realParent, path.basename(file));
  let link: string;
  try {
    link = await readlink(candidate);
  } catch {
    return candidate; // not a link (EINVAL) or not there yet (ENOENT)
  }
  if (hops >= 40) throw new LabbookError("UNSAFE_PATH", `Too many levels of symbolic links at ${file}.`, { path: file });
  return resolveReal(path.resolve(realParent, link), hops + 1);
}

/**
 * Storage on the local file system, rooted at a folder. Every write goes to a temp file in the same
 * folder, is fsynced, then renamed into place, so a reader never sees half a file. Conditional
 * writes: create-only through link() (atomic, fails if the name exists); replace-if-unchanged under
 * a lock file (proper-lockfile, stale locks of crashed holders are broken) with a compare of the
 * version token (inode, size, mtime).
 *
 * @example
 * const storage = new LocalStorage("./experiments");
 * const project = await Project.open("project.json", { storage });
 */
export class LocalStorage implements Storage {
  readonly kind = "local";
  readonly capabilities: StorageCapabilities = { conditionalWrites: true, locking: true, atomicWrites: true };
  readonly root: string;
  readonly #staleLockMs: number;
  readonly #fsync: "durable" | "all" | "none";
  readonly #syncWriteBytes: number;

  constructor(root: string, options: LocalStorageOptions = {}) {
    this.root = path.resolve(root);
    this.#staleLockMs = options.staleLockMs ?? 10_000;
    this.#fsync = options.fsync ?? "durable";
    this.#syncWriteBytes = options.syncWriteBytes ?? 64 * 1024;
  }

  /** Absolute path of a key, refusing anything that would leave the root. */
  pathOf(key: string): string {
    assertSafeKey(key);
    // A safe key (relative, "/"-separated, no ".", ".." or empty parts) on the resolved root is already normal and inside it.
    if (path.sep === "/") return this.root === "/" ? `/${key}` : `${this.root}/${key}`;
    const full = path.resolve(this.root, key);
    const rel = path.relative(this.root, full);
    if (rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new LabbookError("UNSAFE_PATH", `Key ${JSON.stringify(key)} would leave ${this.root}.`, { path: key });
    }
    return full;
  }

  describe(key: string): string {
    return key === "" ? this.root : path.join(this.root, key);
  }

  #fail(error: unknown, key: string, action: string): never {
    const where = this.describe(key);
    const code = errno(error);
    if (error instanceof LabbookError) throw error;
    if (code === "ENOENT") throw new LabbookError("NOT_FOUND", `No file at ${where}.`, { path: where, cause: error });
    if (code === "EISDIR") throw new LabbookError("NOT_FOUND", `${where} is a folder, not a file.`, { path: where, cause: error });
    if (code === "EROFS") {
      throw new LabbookError(
        "STORAGE",
        `Could not ${action} ${where}: the file system is mounted read-only (EROFS). Open it read-only, or use a writable location.`,
        {
          path: where,
          cause: error,
        },
      );
    }
    if (code === "EACCES" || code === "EPERM") {
      throw new LabbookError("STORAGE", `Could not ${action} ${where}: permission denied (${code}). Check the owner and mode of the file and its folder.`, {
        path: where,
        cause: error,
      });
    }
    if (code === "ENOSPC" || code === "EDQUOT") {
      throw new LabbookError("STORAGE", `Could not ${action} ${where}: the disk is full (${code}); nothing was replaced. Free some space and retry.`, {
        path: where,
        cause: error,
      });
    }
    throw new LabbookError("STORAGE", `Could not ${action} ${where}: ${(error as Error).message}`, { path: where, cause: error });
  }

  /**
   * Open a file for reading, refusing anything that is not a regular file: a FIFO would block
   * forever and a device such as /dev/zero never ends. Symlinks are followed, so the check is on
   * what the link points to.
   */
  async #openRegular(key: string): Promise<{ handle: FileHandle; stat: BigIntStats }> {
    const handle = await open(this.pathOf(key), READ_FLAGS);
    try {
      const stat = await handle.stat({ bigint: true });
      if (!stat.isFile()) {
        const where = this.describe(key);
        if (stat.isDirectory()) throw new LabbookError("NOT_FOUND", `${where} is a folder, not a file.`, { path: where });
        throw new LabbookError(
          "INVALID_FORMAT",
          `${where} is ${kindOf(stat)}, not a regular file; labbook reads only regular files (a pipe or device could block or never end). Replace it with the real file.`,
          { path: where },
        );
      }
      return { handle, stat };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The whole file, or with `maxBytes` at most that much: refused before reading when bigger, and cut off if it grows. */
  async #readAll(key: string, handle: FileHandle, size: number, maxBytes: number | undefined): Promise<Uint8Array> {
    if (maxBytes === undefined) return handle.readFile();
    if (size > maxBytes) throw tooLargeError(this.describe(key), size, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(Math.max(size - total, 64 * 1024), maxBytes + 1 - total);
      if (want <= 0) break;
      const buffer = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buffer, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (total > maxBytes) throw tooLargeError(this.describe(key), total, maxBytes);
    // The usual case is one read of the whole file: return it as it is, not a copy (an index held as bytes would double).
    if (chunks.length === 1) return chunks[0] as Buffer;
    return Buffer.concat(chunks, total);
  }

  async read(key: string, options?: ReadOptions): Promise<Uint8Array> {
    return (await this.readVersioned(key, options)).data;
  }

  async readVersioned(key: string, options?: ReadOptions): Promise<{ data: Uint8Array; version: string }> {
    try {
      // fstat and read through one descriptor: the version always describes the bytes returned.
      const before = clockNs();
      const { handle, stat } = await this.#openRegular(key);
      try {
        const data = await this.#readAll(key, handle, Number(stat.size), options?.maxBytes);
        options?.onProgress?.({ bytes: data.byteLength, total: data.byteLength });
        return { data, version: versionOf(stat, isRacy(stat, before) ? digestOf(data) : undefined) };
      } finally {
        await handle.close();
      }
    } catch (error) {
      this.#fail(error, key, "read");
    }
  }

  async readStream(key: string, options?: ReadOptions): Promise<AsyncIterable<Uint8Array>> {
    let handle: FileHandle;
    let total: number;
    try {
      const opened = await this.#openRegular(key);
      handle = opened.handle;
      total = Number(opened.stat.size);
      if (options?.maxBytes !== undefined && total > options.maxBytes) {
        await handle.close();
        throw tooLargeError(this.describe(key), total, options.maxBytes);
      }
    } catch (error) {
      this.#fail(error, key, "read");
    }
    const stream = handle.createReadStream({ highWaterMark: 1024 * 1024 });
    if (!options?.onProgress) return stream;
    const onProgress = options.onProgress;
    return (async function* () {
      let bytes = 0;
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        onProgress({ bytes, total });
        yield chunk;
      }
    })();
  }

  #syncs(options: WriteOptions): boolean {
    return this.#fsync === "all" || (this.#fsync === "durable" && options.durable === true);
  }

  /** Whether a write of `bytes` takes the synchronous path (see syncWriteBytes): small, no fsync, no lock. */
  #writesSync(bytes: Uint8Array, options: WriteOptions): boolean {
    return bytes.byteLength <= this.#syncWriteBytes && options.ifMatch === undefined && !this.#syncs(options);
  }

  /**
   * Real paths of the folders this instance made or checked, by the path a key gives them: a save of
   * many files creates and resolves each folder once, not once per file. Cleared after a failed
   * write, since a folder may have been removed or replaced behind our back.
   */
  readonly #realDirs = new Map<string, Promise<string>>();

  /**
   * The real path of folder `dir` (inside the root), created if missing. A link on the way is
   * followed, but UNSAFE_PATH when it leads out of the root: an experiment folder linked elsewhere
   * must not receive files. The folder is as exposed to a later swap as a fresh check would be.
   */
  #folder(dir: string, key: string, sync: boolean): string | Promise<string> {
    const made = this.#madeDirs.get(dir);
    if (made !== undefined) return made;
    const parent = sync ? this.#madeDirs.get(path.dirname(dir)) : undefined;
    if (parent !== undefined && dir !== this.root) {
      // The common case of a small write, a new folder in a known one, without a thread-pool round trip.
      const candidate = childOf(parent, path.basename(dir));
      try {
        mkdirSync(candidate);
        this.#madeDirs.set(dir, candidate);
        return candidate;
      } catch {
        // Taken (maybe by a link) or refused: the asynchronous path below finds out which and says so.
      }
    }
    let real = this.#realDirs.get(dir);
    if (real === undefined) {
      real = this.#makeFolder(dir, key).then((found) => {
        this.#madeDirs.set(dir, found);
        return found;
      });
      this.#realDirs.set(dir, real);
      real.catch(() => this.#realDirs.delete(dir));
    }
    return real;
  }

  /** The folders of #realDirs once resolved, for the synchronous path. */
  readonly #madeDirs = new Map<string, string>();

  async #makeFolder(dir: string, key: string): Promise<string> {
    if (dir === this.root) {
      this.#realRoot ??= resolveReal(this.root);
      const real = await this.#realRoot;
      try {
        await fse.mkdirp(real);
      } catch (error) {
        throw await folderError(real, error);
      }
      return real;
    }
    const parent = await this.#folder(path.dirname(dir), key, false);
    const candidate = childOf(parent, path.basename(dir));
    try {
      await mkdir(candidate);
      return candidate; // made just now, so a real folder inside its (checked) parent: nothing to resolve
    } catch (error) {
      if (errno(error) !== "EEXIST") throw await folderError(candidate, error);
    }
    const real = await resolveReal(candidate);
    if (real !== candidate) {
      await this.#assertInside(key, real, "write");
      try {
        await fse.mkdirp(real); // a link to a folder that is not there yet
      } catch (error) {
        throw await folderError(real, error);
      }
    }
    return real;
  }

  /** The real path of `file` when it is a symlink (UNSAFE_PATH for one in a folder that leads out of the root); undefined otherwise. */
  async #followLink(key: string, file: string): Promise<string | undefined> {
    let link: string;
    try {
      link = await readlink(file);
    } catch {
      return undefined; // not a link, or not there yet
    }
    const real = await resolveReal(path.resolve(path.dirname(file), link));
    if (key.includes("/")) await this.#assertInside(key, real, "write");
    return real;
  }

  async #syncDir(dir: string): Promise<void> {
    try {
      const handle = await open(dir, "r");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // Some file systems refuse fsync on folders; the rename itself is still atomic.
    }
  }

  #realRoot: Promise<string> | undefined;

  async #assertInside(key: string, real: string, what: string): Promise<void> {
    this.#realRoot ??= resolveReal(this.root);
    if (inside(await this.#realRoot, real)) return;
    throw new LabbookError(
      "UNSAFE_PATH",
      `Refusing to ${what} ${this.describe(key)}: a symbolic link leads it to ${real}, outside ${this.root}. Replace the link with a real folder, or open the project where its files really are.`,
      { path: this.describe(key) },
    );
  }

  /**
   * Symlinks are followed, but a write that a link would carry out of the root is refused
   * (UNSAFE_PATH). A file directly in the root (the index a user names) may be a link anywhere; the
   * write then replaces the link's target, as Python lazyscribe's open(path, "w") does.
   */
  async write(key: string, data: ByteSource, options: WriteOptions = {}): Promise<WriteResult> {
    const createOnly = options.ifNoneMatch === "*";
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data instanceof Uint8Array ? data : undefined;
    try {
      const name = this.pathOf(key);
      try {
        return await this.#writeOnce(key, name, bytes ?? data, bytes !== undefined, options);
      } catch (error) {
        // A folder known to exist was removed behind our back: make it again (bytes can be sent twice, a stream cannot).
        if (errno(error) !== "ENOENT" || bytes === undefined) throw error;
        this.#forgetFolders();
        return await this.#writeOnce(key, name, bytes, true, options);
      }
    } catch (error) {
      this.#forgetFolders();
      if (createOnly && errno(error) === "EEXIST") {
        throw new LabbookError("CONFLICT", `${this.describe(key)} already exists.`, { path: this.describe(key), cause: error });
      }
      this.#fail(error, key, "write");
    }
  }

  #forgetFolders(): void {
    this.#realDirs.clear();
    this.#madeDirs.clear();
  }

  async #writeOnce(key: string, name: string, data: ByteSource, inMemory: boolean, options: WriteOptions): Promise<WriteResult> {
    const small = data instanceof Uint8Array && this.#writesSync(data, options);
    const file = childOf(await this.#folder(path.dirname(name), key, small), path.basename(name));
    // A create-only write of bytes does not look at the name first: link() refuses a taken name, a
    // symlink included, and only then is the name checked for a link to follow (a stream could not
    // be sent twice, so it is checked first).
    if (options.ifNoneMatch !== "*" || !inMemory) return this.#writeAt(key, (await this.#followLink(key, file)) ?? file, data, options);
    try {
      return await this.#writeAt(key, file, data, options);
    } catch (error) {
      const real = errno(error) === "EEXIST" ? await this.#followLink(key, file) : undefined;
      if (real === undefined) throw error;
      return await this.#writeAt(key, real, data, options);
    }
  }

  /** Write to the real path `file` through a temp file beside it (create-only: link; ifMatch: rename under the lock; else rename). */
  async #writeAt(key: string, file: string, data: ByteSource, options: WriteOptions): Promise<WriteResult> {
    if (data instanceof Uint8Array && this.#writesSync(data, options)) return this.#writeSmall(file, data, options);
    const sync = this.#syncs(options);
    const temp = tempName(file);
    try {
      const { size, version } = await this.#writeTemp(temp, data, options, sync);
      if (options.ifNoneMatch === "*") {
        await fse.link(temp, file);
        await unlink(temp).catch(() => {}); // the file is in place; a leftover temp is gc's
      } else if (options.ifMatch !== undefined) {
        const expected = options.ifMatch;
        await this.#lockFile(file, key, async () => {
          if (!(await this.#stillAt(file, expected))) {
            throw new LabbookError("CONFLICT", `${this.describe(key)} changed since it was read.`, { path: this.describe(key) });
          }
          await fse.rename(temp, file);
        });
      } else {
        await fse.rename(temp, file);
      }
      if (sync) await this.#syncDir(path.dirname(file));
      // The version of what we wrote, taken from the temp file: rename and link keep inode, size and
      // mtime, and a stat of the final path could describe a later writer's file.
      return { version, size };
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
  }

  /**
   * A small in-memory write with no fsync, as synchronous calls (see syncWriteBytes): open the temp
   * file create-only, write, fstat, close, then link or rename it into place. Six system calls and no
   * thread-pool round trip; a reader still never sees half a file.
   */
  #writeSmall(file: string, bytes: Uint8Array, options: WriteOptions): WriteResult {
    const temp = tempName(file);
    const fd = openSync(temp, "wx");
    let stat: BigIntStats;
    let before: bigint;
    try {
      try {
        for (let written = 0; written < bytes.byteLength; ) written += writeSync(fd, bytes, written);
        before = clockNs();
        stat = fstatSync(fd, { bigint: true });
      } finally {
        closeSync(fd);
      }
      if (options.ifNoneMatch === "*") {
        linkSync(temp, file);
        try {
          unlinkSync(temp);
        } catch {
          // The file is in place; a leftover temp is gc's.
        }
      } else {
        renameSync(temp, file);
      }
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {
        // Never made, or already gone.
      }
      throw error;
    }
    options.onProgress?.({ bytes: bytes.byteLength, total: bytes.byteLength });
    return { version: versionOf(stat, isRacy(stat, before) ? digestOf(bytes) : undefined), size: bytes.byteLength };
  }

  /**
   * Write `data` to the new file `temp` (create-only), fsynced when asked; its size and version (with
   * the digest of the bytes written when the file is racy, which a fresh file nearly always is: the
   * writer knows its bytes, so it never reads them back; a stream is hashed as it passes).
   */
  async #writeTemp(temp: string, data: ByteSource, options: WriteOptions, sync: boolean): Promise<{ size: number; version: string }> {
    if (typeof data === "string" || data instanceof Uint8Array) {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      const handle = await open(temp, "wx");
      try {
        await handle.writeFile(bytes);
        if (sync) await handle.sync();
        const before = clockNs();
        const stat = await handle.stat({ bigint: true });
        options.onProgress?.({ bytes: bytes.byteLength, total: bytes.byteLength });
        return { size: bytes.byteLength, version: versionOf(stat, isRacy(stat, before) ? digestOf(bytes) : undefined) };
      } finally {
        await handle.close();
      }
    }
    let size = 0;
    const hash = createHash("sha256");
    // The temp file is made before the source is read: createWriteStream(path) opens it later, so a
    // source failing at once left a temp file created after the caller had cleaned up.
    const out = (await open(temp, "wx")).createWriteStream();
    const onProgress = options.onProgress;
    const total = options.size;
    await pipeline(
      (async function* () {
        for await (const chunk of data) {
          size += chunk.byteLength;
          hash.update(chunk);
          onProgress?.({ bytes: size, total });
          yield chunk;
        }
      })(),
      out,
    );
    const versioned = (stat: BigIntStats, before: bigint) => ({ size, version: versionOf(stat, isRacy(stat, before) ? hash.digest("hex") : undefined) });
    if (!sync) {
      const before = clockNs();
      return versioned(await fse.stat(temp, { bigint: true }), before);
    }
    const handle = await open(temp, "r+");
    try {
      await handle.sync();
      const before = clockNs();
      return versioned(await handle.stat({ bigint: true }), before);
    } finally {
      await handle.close();
    }
  }

  /**
   * Whether the file at `file` still has the version `expected` (called under its lock). The stat
   * part is compared first; only when it matches and `expected` carries a digest (it was taken while
   * the file was racy) is the current file hashed, through one descriptor whose fstat must match too.
   */
  async #stillAt(file: string, expected: string): Promise<boolean> {
    const current = await this.#statBig(file);
    if (!current?.isFile()) return false;
    const part = statPart(current);
    if (expected === part) return true;
    if (!expected.startsWith(`${part}:`)) return false;
    const digest = expected.slice(part.length + 1);
    let handle: FileHandle;
    try {
      handle = await open(file, READ_FLAGS);
    } catch (error) {
      if (errno(error) === "ENOENT") return false;
      throw error;
    }
    try {
      const stat = await handle.stat({ bigint: true });
      return stat.isFile() && statPart(stat) === part && (await digestOfFile(handle, Number(stat.size))) === digest;
    } finally {
      await handle.close();
    }
  }

  async #statBig(file: string): Promise<BigIntStats | undefined> {
    try {
      return await fse.stat(file, { bigint: true });
    } catch (error) {
      if (errno(error) === "ENOENT") return undefined;
      throw error;
    }
  }

  /**
   * A file's size and version. A racy file (changed within the last second) is opened and hashed so
   * that the version agrees with what readVersioned and write give for it; any other costs one stat.
   *
   * How comparisons of these tokens can err (catch-up's "unchanged?" in core, the UI's refresh): a
   * token with a digest never equals a plain one, so the same file seen racy once and settled later
   * compares "changed", which costs one re-read, after which the plain tokens agree. A false
   * "unchanged" needs two different files with equal tokens: equal plain tokens were both taken when
   * the mtime was safely past, which a later file cannot repeat (short of the clock or mtime being set
   * back); equal tokens with digests have the same content, so nothing differs to lose.
   */
  async stat(key: string): Promise<ObjectInfo | undefined> {
    const file = this.pathOf(key);
    try {
      const before = clockNs();
      const s = await this.#statBig(file);
      if (!s || !s.isFile()) return undefined;
      if (!isRacy(s, before)) return { key, size: Number(s.size), version: versionOf(s), lastModified: new Date(Number(s.mtimeMs)) };
      return await this.#statHashed(key, file, before);
    } catch (error) {
      this.#fail(error, key, "stat");
    }
  }

  /** stat() of a racy file: fstat and hash through one descriptor, so the digest describes that stat. */
  async #statHashed(key: string, file: string, before: bigint): Promise<ObjectInfo | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(file, READ_FLAGS);
    } catch (error) {
      if (errno(error) === "ENOENT") return undefined; // removed between the stat and the open
      throw error;
    }
    try {
      const s = await handle.stat({ bigint: true });
      if (!s.isFile()) return undefined;
      const digest = isRacy(s, before) ? await digestOfFile(handle, Number(s.size)) : undefined;
      return { key, size: Number(s.size), version: versionOf(s, digest), lastModified: new Date(Number(s.mtimeMs)) };
    } finally {
      await handle.close();
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf("/");
    const baseKey = slash < 0 ? "" : prefix.slice(0, slash);
    if (baseKey !== "") assertSafeKey(baseKey);
    const keys: string[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await readdir(dirKey === "" ? this.root : this.pathOf(dirKey), { withFileTypes: true });
      } catch (error) {
        if (errno(error) === "ENOENT" || errno(error) === "ENOTDIR") return;
        throw error;
      }
      for (const entry of entries) {
        const key = dirKey === "" ? entry.name : `${dirKey}/${entry.name}`;
        if (entry.isDirectory()) {
          if (entry.name.endsWith(LOCK_SUFFIX)) continue;
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(key);
        } else if (entry.isFile() && key.startsWith(prefix) && !entry.name.endsWith(TEMP_SUFFIX)) {
          keys.push(key);
        }
      }
    };
    await walk(baseKey);
    keys.sort();
    for (const key of keys) {
      const info = await this.stat(key);
      if (info) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      // A link itself is removed, never its target; but a linked folder on the way must stay inside the root.
      if (key.includes("/")) {
        const dir = await resolveReal(path.dirname(file));
        if (dir !== path.dirname(file)) await this.#assertInside(key, dir, "delete");
      }
      const s = await this.#statBig(file);
      if (s?.isDirectory()) throw new LabbookError("STORAGE", `${this.describe(key)} is a folder; delete removes files only.`, { path: this.describe(key) });
      await fse.remove(file);
    } catch (error) {
      this.#fail(error, key, "delete");
    }
  }

  async copy(from: string, to: string): Promise<void> {
    this.pathOf(to);
    // readStream opens (and checks) the source first, so a missing source fails before anything is written.
    await this.write(to, await this.readStream(from));
  }

  /**
   * LOCKED for a lock nobody will ever release, so a save stops at once instead of retrying for
   * minutes: a plain file where the lock folder goes (Python's filelock leaves `<file>.lock`), or a
   * lock folder dated in the future (it never looks stale, so it would never be broken).
   */
  async #assertLockUsable(lock: string): Promise<void> {
    let info: import("node:fs").Stats;
    try {
      info = await fse.lstat(lock);
    } catch (error) {
      if (errno(error) === "ENOENT") return;
      throw error;
    }
    if (!info.isDirectory()) {
      throw new LabbookError(
        "LOCKED",
        `Cannot lock ${lock.slice(0, -LOCK_SUFFIX.length)}: ${lock} is a plain file, not labbook's lock folder (Python's filelock leaves a file like it). labbook can neither take nor wait for that lock. If no process is writing the project, delete it; to share a project with Python writers see docs/interop.md.`,
        { path: lock },
      );
    }
    const ahead = info.mtimeMs - Date.now();
    if (ahead > this.#staleLockMs) {
      throw new LabbookError(
        "LOCKED",
        `Cannot lock ${lock.slice(0, -LOCK_SUFFIX.length)}: the lock folder ${lock} was last touched ${Math.round(ahead / 1000)} s in the future (${new Date(info.mtimeMs).toISOString()}), so it never goes stale and would block every save. Check this machine's clock; if no process is saving, remove the folder.`,
        { path: lock },
      );
    }
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.#lockFile(this.pathOf(key), key, fn);
  }

  async #lockFile<T>(file: string, key: string, fn: () => Promise<T>): Promise<T> {
    await fse.mkdirp(path.dirname(file));
    await this.#assertLockUsable(`${file}${LOCK_SUFFIX}`);
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(file, {
        realpath: false,
        lockfilePath: `${file}${LOCK_SUFFIX}`,
        stale: this.#staleLockMs,
        update: Math.max(1000, Math.floor(this.#staleLockMs / 4)),
        retries: { retries: 200, factor: 1.3, minTimeout: 5, maxTimeout: 250, randomize: true },
      });
    } catch (error) {
      // The lock may have turned into one nobody releases while we waited.
      await this.#assertLockUsable(`${file}${LOCK_SUFFIX}`);
      throw new LabbookError("CONFLICT", `Could not lock ${this.describe(key)}: ${(error as Error).message}`, { path: this.describe(key), cause: error });
    }
    try {
      return await fn();
    } finally {
      await release().catch(() => {});
    }
  }
}
