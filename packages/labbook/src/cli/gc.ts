import type { ObjectInfo } from "@labbook/core";
import { scanForGc } from "../gc.js";
import { renderGrid } from "../table.js";
import { readProject } from "./locations.js";
import { formatBytes, print, printJson, tableOptions, UsageError } from "./output.js";

export async function gc(location: string, options: { delete?: boolean; minAge?: string; json?: boolean }): Promise<void> {
  const minAge = options.minAge === undefined ? 3600 : Number(options.minAge);
  if (!Number.isFinite(minAge) || minAge < 0 || !/^\d+$/.test(options.minAge ?? "0")) {
    throw new UsageError(`--min-age takes a whole number of seconds, not ${JSON.stringify(options.minAge)}.`);
  }
  const project = await readProject(location);
  const storage = project.storage;
  // A file younger than min-age may belong to a save in progress (artifacts are written before the
  // index), and a temp file younger than it to a writer still running.
  const cutoff = Date.now() - minAge * 1000;
  const old = (f: ObjectInfo) => f.lastModified === undefined || f.lastModified.getTime() <= cutoff;
  // Throws INVALID_FORMAT, naming the files, when any index under the folder cannot be read.
  const scan = await scanForGc(storage, project.dir);
  const files = scan.unreferenced.filter(old);
  const temporary = scan.temporary.filter(old);
  const skipped = scan.unreferenced.length - files.length + scan.temporary.length - temporary.length;
  if (options.delete) for (const f of [...files, ...temporary]) await storage.delete(f.key);
  const describe = (f: ObjectInfo) => ({ key: f.key, path: storage.describe(f.key), size: f.size, last_modified: f.lastModified?.toISOString() ?? null });
  const result = {
    project: project.path,
    deleted: options.delete === true,
    skipped_recent: skipped,
    indexes_read: scan.indexes.map((k) => storage.describe(k)),
    files: files.map(describe),
    temporary_files: temporary.map(describe),
  };
  if (options.json) {
    printJson(result);
    return;
  }
  const rows = [...result.files, ...result.temporary_files];
  const total = rows.reduce((n, f) => n + f.size, 0);
  if (rows.length > 0)
    print(
      renderGrid(
        ["file", "size", "modified"],
        rows.map((f) => [f.path, formatBytes(f.size), f.last_modified ?? ""]),
        tableOptions(),
      ),
    );
  const verb = options.delete ? "Deleted" : "Found";
  const tail = options.delete || rows.length === 0 ? "" : "; run again with --delete to remove them";
  const young = skipped > 0 ? ` (${skipped} newer than --min-age ${minAge}s left alone)` : "";
  const temps = temporary.length > 0 ? ` (${temporary.length} of them unfinished writes of stopped writers)` : "";
  process.stderr.write(
    `${verb} ${rows.length} unreferenced file(s)${temps}, ${formatBytes(total) || "0 B"}${young}${tail}; ${scan.indexes.length} index file(s) read.\n`,
  );
}
