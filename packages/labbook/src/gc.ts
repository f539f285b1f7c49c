import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_MAX_INDEX_BYTES, dirnameKey, joinKey, LabbookError, type ObjectInfo, type Project, parsePyJson, type Storage, slugify } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";

const decoder = new TextDecoder();

/** Suffixes storages keep for their own bookkeeping: lock files and folders, unfinished atomic writes. */
const LOCK = /\.lock$/;
const LOCK_FOLDER = /\.lock\//;
const TEMP = /\.lbtmp$/;

/** What gc found under a folder. */
export interface GcScan {
  /** Files no index names (callers leave young ones alone: a save may be in progress). */
  readonly unreferenced: ObjectInfo[];
  /** Unfinished writes of killed writers (local temp files), with their age. */
  readonly temporary: ObjectInfo[];
  /** The index files read: projects, repositories and releases, in either format. */
  readonly indexes: string[];
}

type Kind = "project" | "repository" | "releases";

interface Names {
  /** Files named exactly. */
  files: Set<string>;
  /** Folders named as a whole (an experiment whose artifact list cannot be read entry by entry). */
  folders: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What an index file is, from its shape: a project (records with a slug), a repository (entries with
 * a name and an fname), releases (records with a tag). Not an index: undefined. Only the fields gc
 * needs are looked at, so a lazyscribe file that labbook's schemas refuse (a null metric, an odd
 * field) still names its files.
 */
function kindOf(key: string, data: unknown): Kind | undefined {
  if (path.posix.basename(key) === "releases.json") return "releases";
  if (!Array.isArray(data)) return undefined;
  if (data.length === 0) return "project";
  if (data.some((r) => isObject(r) && typeof r.slug === "string" && ("artifacts" in r || "tests" in r))) return "project";
  if (data.some((r) => isObject(r) && typeof r.name === "string" && typeof r.fname === "string" && "version" in r)) return "repository";
  if (data.some((r) => isObject(r) && typeof r.tag === "string" && Array.isArray(r.artifacts))) return "releases";
  return undefined;
}

/** Add the files of one artifact list (entries with an fname) in `folder`; false when it cannot be read entry by entry. */
function addEntries(list: unknown, folder: string, names: Names): boolean {
  if (list === undefined) return true;
  if (!Array.isArray(list)) return false;
  let whole = true;
  for (const entry of list) {
    if (isObject(entry) && typeof entry.fname === "string") names.files.add(joinKey(folder, entry.fname));
    else whole = false;
  }
  return whole;
}

/** The files an index names; throws a message when the index cannot tell which files are its. */
function nameFiles(kind: Kind, dir: string, data: unknown, names: Names): void {
  if (!Array.isArray(data)) throw new Error(`it is not a list of ${kind === "releases" ? "releases" : "entries"}`);
  if (kind === "releases") return; // Releases pin versions the repository index names.
  for (const [i, record] of data.entries()) {
    if (!isObject(record)) throw new Error(`entry [${i}] is not an object`);
    if (kind === "repository") {
      if (typeof record.name !== "string" || typeof record.fname !== "string") throw new Error(`entry [${i}] has no name or fname`);
      names.files.add(joinKey(dir, record.name, record.fname));
      continue;
    }
    if (typeof record.slug !== "string" || record.slug === "") throw new Error(`experiment [${i}] has no slug`);
    const folder = joinKey(dir, record.slug);
    let whole = addEntries(record.artifacts, folder, names);
    if (record.tests !== undefined) {
      if (!Array.isArray(record.tests)) whole = false;
      else
        for (const test of record.tests) {
          if (isObject(test) && typeof test.name === "string") whole = addEntries(test.artifacts, joinKey(folder, slugify(test.name)), names) && whole;
          else whole = false;
        }
    }
    // An experiment whose lists are odd keeps its whole folder: gc only deletes what it can prove unnamed.
    if (!whole) names.folders.push(`${folder}/`);
  }
}

/** Temp files of unfinished local writes under `dir` (the storage's listing hides them). */
async function localTempFiles(storage: LocalStorage, dir: string): Promise<ObjectInfo[]> {
  const found: ObjectInfo[] = [];
  const walk = async (key: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(key === "" ? storage.root : storage.pathOf(key), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = joinKey(key, entry.name);
      if (entry.isDirectory() && !LOCK.test(entry.name)) await walk(child);
      else if (entry.isFile() && TEMP.test(entry.name)) {
        try {
          const s = await stat(storage.pathOf(child));
          found.push({ key: child, size: s.size, version: "", lastModified: s.mtime });
        } catch {
          // Renamed into place or removed meanwhile: not a leftover.
        }
      }
    }
  };
  await walk(dir);
  return found.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/**
 * Scan everything under `dir` for gc. Every index found there is read — projects, repositories and
 * releases, labbook's or lazyscribe's, the one being collected and any other (beside it or in a
 * sub-folder) — and a file counts as named if any of them names it. Files are listed before the
 * indexes are read, so a save that commits meanwhile names its files before gc could miss them.
 * Never candidates: index files, files beside an index, lock files, files under a folder named as a
 * whole. When an index (or any `.json` that is not a named artifact) cannot be read, nothing can be
 * proven unnamed: INVALID_FORMAT names every such file and nothing is returned.
 *
 * @example
 * const { unreferenced } = await scanForGc(project.storage, project.dir)
 */
export async function scanForGc(storage: Storage, dir: string, options: { maxIndexBytes?: number | undefined } = {}): Promise<GcScan> {
  const maxBytes = options.maxIndexBytes ?? DEFAULT_MAX_INDEX_BYTES;
  const prefix = dir === "" ? "" : `${dir}/`;
  const listed: ObjectInfo[] = [];
  for await (const info of storage.list(prefix)) listed.push(info);
  const names: Names = { files: new Set(), folders: [] };
  const named = (key: string) => names.files.has(key) || names.folders.some((f) => key.startsWith(f));
  const indexes: string[] = [];
  const unreadable: string[] = [];
  // Shallow first: an index sits above the files it names, so a named json artifact is never read.
  const depth = (key: string) => key.split("/").length;
  const jsonFiles = listed
    .filter((f) => /\.json$/i.test(f.key) && !LOCK_FOLDER.test(f.key))
    .sort((a, b) => depth(a.key) - depth(b.key) || (a.key < b.key ? -1 : 1));
  for (const file of jsonFiles) {
    if (named(file.key)) continue;
    const where = storage.describe(file.key);
    if (file.size > maxBytes) {
      unreadable.push(`${where}: ${file.size} bytes, over the ${maxBytes}-byte index limit`);
      continue;
    }
    let data: unknown;
    try {
      data = parsePyJson(decoder.decode(await storage.read(file.key)), where);
    } catch (error) {
      // Gone since the listing (a temp file renamed over it, or deleted): nothing to protect or read.
      if ((error as { code?: string }).code === "NOT_FOUND") continue;
      unreadable.push(`${where}: ${(error as Error).message}`);
      continue;
    }
    const kind = kindOf(file.key, data);
    if (kind === undefined) continue;
    try {
      nameFiles(kind, dirnameKey(file.key), data, names);
      indexes.push(file.key);
    } catch (error) {
      unreadable.push(`${where} (a ${kind} index): ${(error as Error).message}`);
    }
  }
  if (unreadable.length > 0) {
    throw new LabbookError(
      "INVALID_FORMAT",
      `gc cannot prove which files are unused under ${storage.describe(dir)}, because ${unreadable.length === 1 ? "this file" : "these files"} cannot be read as an index (it may be one caught mid-write or damaged):\n  ${unreadable.join("\n  ")}\nNothing was deleted. Fix or remove ${unreadable.length === 1 ? "it" : "them"}, or wait for the writer to finish, then run gc again.`,
      { path: unreadable[0]?.split(": ")[0] },
    );
  }
  const indexFolders = new Set([dir, ...indexes.map(dirnameKey)]);
  const indexKeys = new Set(indexes);
  const unreferenced = listed.filter(
    (info) =>
      !indexKeys.has(info.key) &&
      // Files beside an index (other indexes, notes, locks) are never candidates.
      !indexFolders.has(dirnameKey(info.key)) &&
      !LOCK.test(info.key) &&
      !LOCK_FOLDER.test(info.key) &&
      !TEMP.test(info.key) &&
      !named(info.key),
  );
  const temporary = storage instanceof LocalStorage ? await localTempFiles(storage, dir) : [];
  return { unreferenced, temporary, indexes };
}

/**
 * Files under a project's folder that no index names: leftovers of deleted experiments, of saves
 * that failed after writing artifacts, or stray copies (see scanForGc for what counts as named).
 *
 * @example
 * for (const file of await findUnreferencedFiles(project)) console.log(file.key, file.size)
 */
export async function findUnreferencedFiles(project: Project): Promise<ObjectInfo[]> {
  return (await scanForGc(project.storage, project.dir)).unreferenced;
}
