import { type ArtifactEntry, isLabbookError, joinKey, LabbookError, type Project, type ReadonlyExperimentRecord, slugify } from "@labbook/core";
import { openProject } from "../open.js";
import { readProject } from "./locations.js";
import { print, printJson } from "./output.js";

/** Relative key (inside the project folder) of every file a record names, with its entry and test. */
function files(record: ReadonlyExperimentRecord): { rel: string; entry: ArtifactEntry; test: string | undefined }[] {
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
    const entries = test === undefined ? e.toRecord().artifacts : (e.toRecord().tests.find((t) => t.name === test)?.artifacts ?? []);
    return entries.some((x) => sameEntry(x, entry));
  });
}

/** How many times a merge that keeps losing the race to other writers starts its commit again. */
const MERGE_ATTEMPTS = 20;

/**
 * Merge projects into `into`: experiments of every source (and of `into` itself when it exists),
 * with the core merge rule for the same slug. It is a save like any other: the target is read,
 * merged with the sources, and committed conditionally; when another process saved into the target
 * meanwhile, its experiments are taken in and the commit retried, so nothing anyone else committed
 * is lost. Artifact files are copied into the target's folder before its index names them.
 */
export async function merge(sources: string[], into: string, options: { json?: boolean }): Promise<void> {
  const projects: Project[] = [];
  for (const s of sources) projects.push(await readProject(s));
  // Mode w+: loaded now, caught up and committed conditionally on save (mode "w" would overwrite blindly).
  const target = await openProject(into, { mode: "w+" });
  const targetPath = target.path;
  const others = projects.filter((p) => p.path !== targetPath);
  const all = [target, ...others];
  const merged = target.merge(...others);
  // Every file the merged index will name must exist somewhere before anything is written.
  let copied = 0;
  for (const e of merged.experiments) {
    for (const { rel, entry, test } of files(e.toRecord())) {
      const destKey = joinKey(target.dir, rel);
      const candidates = sourcesOf(all, e.slug, entry, test);
      // Already in place (the target's own file, or merging into one of the sources).
      if (candidates.some((p) => p.storage.describe(joinKey(p.dir, rel)) === target.storage.describe(destKey))) continue;
      let found = false;
      for (const p of candidates) if (!found && (await p.storage.stat(joinKey(p.dir, rel)))) found = true;
      if (!found) {
        throw new LabbookError(
          "NOT_FOUND",
          `Cannot merge: artifact "${entry.name}" of experiment "${e.slug}" (${rel}) is missing in every source project. Nothing was written to ${targetPath}'s index.`,
          { path: rel },
        );
      }
      copied++;
    }
  }
  const count = merged.size;
  // save() copies the files, then commits; CONFLICT means others kept committing first: go again.
  for (let attempt = 1; ; attempt++) {
    try {
      await merged.save();
      break;
    } catch (error) {
      if (!isLabbookError(error, "CONFLICT") || attempt >= MERGE_ATTEMPTS) throw error;
    }
  }
  const result = { into: targetPath, experiments: count, sources: projects.map((p) => ({ path: p.path, experiments: p.size })), copied_files: copied };
  if (options.json) printJson(result);
  else
    print(
      `Merged ${result.experiments} experiments from ${result.sources.map((s) => `${s.path} (${s.experiments})`).join(", ")} into ${targetPath}; copied ${copied} artifact files.`,
    );
}
