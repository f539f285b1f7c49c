import { findUnreferencedFiles } from "../gc.js";
import { renderGrid } from "../table.js";
import { readProject } from "./locations.js";
import { formatBytes, print, printJson, tableOptions, UsageError } from "./output.js";

export async function gc(location: string, options: { delete?: boolean; minAge?: string; json?: boolean }): Promise<void> {
  const minAge = options.minAge === undefined ? 3600 : Number(options.minAge);
  if (!Number.isFinite(minAge) || minAge < 0 || !/^\d+$/.test(options.minAge ?? "0")) {
    throw new UsageError(`--min-age takes a whole number of seconds, not ${JSON.stringify(options.minAge)}.`);
  }
  const project = await readProject(location);
  // A file younger than min-age may belong to a save in progress (artifacts are written before the index).
  const cutoff = Date.now() - minAge * 1000;
  const all = await findUnreferencedFiles(project);
  const files = all.filter((f) => f.lastModified === undefined || f.lastModified.getTime() <= cutoff);
  const skipped = all.length - files.length;
  if (options.delete) for (const f of files) await project.storage.delete(f.key);
  const result = {
    project: project.path,
    deleted: options.delete === true,
    skipped_recent: skipped,
    files: files.map((f) => ({ key: f.key, path: project.storage.describe(f.key), size: f.size, last_modified: f.lastModified?.toISOString() ?? null })),
  };
  if (options.json) {
    printJson(result);
    return;
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  if (files.length > 0)
    print(
      renderGrid(
        ["file", "size", "modified"],
        result.files.map((f) => [f.path, formatBytes(f.size), f.last_modified ?? ""]),
        tableOptions(),
      ),
    );
  const verb = options.delete ? "Deleted" : "Found";
  const tail = options.delete || files.length === 0 ? "" : "; run again with --delete to remove them";
  const young = skipped > 0 ? ` (${skipped} newer than --min-age ${minAge}s left alone)` : "";
  process.stderr.write(`${verb} ${files.length} unreferenced file(s), ${formatBytes(total) || "0 B"}${young}${tail}.\n`);
}
