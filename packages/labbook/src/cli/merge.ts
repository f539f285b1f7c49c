import { type ArtifactEntry, type ExperimentRecord, isLabbookError, joinKey, LabbookError, type Project, readSlotStream, slugify } from "@labbook/core";
import { openProject } from "../open.js";
import { readProject } from "./locations.js";
import { print, printJson } from "./output.js";

/** Relative key (inside the project folder) of every file a record names, with its entry and test. */
function files(record: ExperimentRecord): { rel: string; entry: ArtifactEntry; test: string | undefined }[] {
  return [
    ...record.artifacts.map((entry) => ({ rel: joinKey(record.slug, entry.fname), entry, test: undefined })),
    ...record.tests.flatMap((t) => t.artifacts.map((entry) => ({ rel: joinKey(record.slug, slugify(t.name), entry.fname), entry, test: t.name }))),
  ];
}

function sameEntry(a: ArtifactEntry, b: ArtifactEntry): boolean {
  return a.name === b.name && a.fname === b.fname && a.version === b.version && a.created_at === b.created_at;
}

/** The projects whose copy of this slug names the same file entry (candidates to copy it from). */
function sourcesOf(projects: Project[], slug: string, entry: ArtifactEntry, test: string | undefined): Project[] {
  return projects.filter((p) => {
    const e = p.find(slug);
    if (!e || e.slug !== slug) return false;
    const entries = test === undefined ? e.record.artifacts : (e.record.tests.find((t) => t.name === test)?.artifacts ?? []);
    return entries.some((x) => sameEntry(x, entry));
  });
}

/**
 * Merge projects into `into`: experiments of every source (and of `into` itself when it exists),
 * with the core merge rule for the same slug; artifact files are copied first, then the index is
 * written, so the new index never names a missing file.
 */
export async function merge(sources: string[], into: string, options: { json?: boolean }): Promise<void> {
  const projects: Project[] = [];
  for (const s of sources) projects.push(await readProject(s));
  const target = await openProject(into, { mode: "w" });
  const targetPath = target.path;
  if (!projects.some((p) => p.path === targetPath)) {
    try {
      projects.push(await openProject(into, { mode: "r" }));
    } catch (error) {
      if (!isLabbookError(error, "NOT_FOUND")) throw error;
    }
  }
  const [first, ...rest] = projects as [Project, ...Project[]];
  const merged = first.merge(...rest);
  let copied = 0;
  for (const e of merged.experiments) {
    for (const { rel, entry, test } of files(e.record)) {
      const destKey = joinKey(target.dir, rel);
      const candidates = sourcesOf(projects, e.slug, entry, test);
      // Already in place (merging into one of the sources).
      if (candidates.some((p) => p.storage.describe(joinKey(p.dir, rel)) === target.storage.describe(destKey))) continue;
      let from: Project | undefined;
      for (const p of candidates) if (await p.storage.stat(joinKey(p.dir, rel))) from = from ?? p;
      if (!from) {
        throw new LabbookError(
          "NOT_FOUND",
          `Cannot merge: artifact "${entry.name}" of experiment "${e.slug}" (${rel}) is missing in every source project. Nothing was written to ${targetPath}'s index.`,
          { path: rel },
        );
      }
      const stream = await readSlotStream(from.storage, entry, joinKey(from.dir, rel));
      await target.storage.write(destKey, stream, entry.size === undefined ? {} : { size: entry.size });
      copied++;
    }
  }
  for (const e of merged.experiments) target.append(e);
  await target.save();
  const result = { into: targetPath, experiments: merged.size, sources: projects.map((p) => ({ path: p.path, experiments: p.size })), copied_files: copied };
  if (options.json) printJson(result);
  else
    print(
      `Merged ${result.experiments} experiments from ${result.sources.map((s) => `${s.path} (${s.experiments})`).join(", ")} into ${targetPath}; copied ${copied} artifact files.`,
    );
}
