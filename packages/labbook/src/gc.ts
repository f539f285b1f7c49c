import {
  type ArtifactEntry,
  dirnameKey,
  type ExperimentRecord,
  joinKey,
  type ObjectInfo,
  type Project,
  parsePyJson,
  projectFileSchema,
  repositoryFileSchema,
  slugify,
} from "@labbook/core";

const decoder = new TextDecoder();

/** Keys of every file an experiment record names (its artifacts and its tests' artifacts). */
function experimentKeys(dir: string, record: ExperimentRecord): string[] {
  const folder = joinKey(dir, record.slug);
  return [
    ...record.artifacts.map((a) => joinKey(folder, a.fname)),
    ...record.tests.flatMap((t) => t.artifacts.map((a) => joinKey(folder, slugify(t.name), a.fname))),
  ];
}

/** Keys a sibling index file names, if it is a project or repository file; undefined if it is neither. */
function siblingKeys(dir: string, data: unknown): string[] | undefined {
  const project = projectFileSchema.safeParse(data);
  if (project.success) return project.data.flatMap((r) => experimentKeys(dir, r));
  const repository = repositoryFileSchema.safeParse(data);
  if (repository.success) return repository.data.map((a: ArtifactEntry) => joinKey(dir, a.name, a.fname));
  return undefined;
}

/**
 * Files under a project's folder that no index names: leftovers of deleted experiments, of saves
 * that failed after writing artifacts, or stray copies. Only files inside sub-folders are
 * candidates; files beside the index (other projects, repositories, releases, locks) never are, and
 * files named by any sibling project or repository index (*.json next to this one) count as named.
 *
 * @example
 * for (const file of await findUnreferencedFiles(project)) console.log(file.key, file.size)
 */
export async function findUnreferencedFiles(project: Project): Promise<ObjectInfo[]> {
  const dir = project.dir;
  const prefix = dir === "" ? "" : `${dir}/`;
  const named = new Set<string>();
  for (const e of project.experiments) for (const key of experimentKeys(dir, e.record)) named.add(key);
  const candidates: ObjectInfo[] = [];
  const siblings: string[] = [];
  for await (const info of project.storage.list(prefix)) {
    if (info.key === project.location) continue;
    if (dirnameKey(info.key) === dir) {
      if (info.key.endsWith(".json") && !info.key.endsWith(".lbtmp")) siblings.push(info.key);
      continue;
    }
    // Lock files and unfinished atomic writes belong to writers that may still be running.
    if (/\.(lock|lbtmp)$/.test(info.key) || /\.lock\//.test(info.key)) continue;
    candidates.push(info);
  }
  for (const key of siblings) {
    let data: unknown;
    try {
      data = parsePyJson(decoder.decode(await project.storage.read(key)), key);
    } catch {
      continue;
    }
    for (const k of siblingKeys(dir, data) ?? []) named.add(k);
  }
  return candidates.filter((info) => !named.has(info.key));
}
