import { type ArtifactEntry, formatDate, isLabbookError, joinKey, LabbookError, parseDate } from "@labbook/core";
import type { Release, Repository, VersionRef } from "@labbook/repository";
import { renderGrid } from "../table.js";
import { deliver } from "./artifact.js";
import { readProject, repositoryAt } from "./locations.js";
import { formatBytes, print, printJson, tableOptions, UsageError } from "./output.js";
import { experimentIn } from "./suggest.js";

/** A version argument: a whole number is a version number, anything else a date (YYYY-MM-DDTHH:MM:SS). */
export function versionArg(value: string): VersionRef {
  return /^\d+$/.test(value) ? Number(value) : value;
}

async function sizeOf(repo: Repository, entry: Readonly<ArtifactEntry>): Promise<number | null> {
  return entry.size ?? (await repo.storage.stat(joinKey(repo.dir, entry.name, entry.fname)))?.size ?? null;
}

function isExpired(entry: Readonly<ArtifactEntry>, now: Date): boolean {
  return entry.expiry !== null && parseDate(entry.expiry, "expiry").getTime() <= now.getTime();
}

async function versionInfo(repo: Repository, entry: Readonly<ArtifactEntry>, now: Date) {
  return {
    version: entry.version,
    created_at: entry.created_at,
    expiry: entry.expiry,
    expired: isExpired(entry, now),
    handler: entry.handler,
    fname: entry.fname,
    size: await sizeOf(repo, entry),
  };
}

/** `repo ls`: every name with its version count and latest unexpired version. */
export async function repoLs(location: string, options: { json?: boolean }): Promise<void> {
  const repo = await repositoryAt(location, "r");
  const now = new Date();
  const names = [];
  for (const name of repo.names()) {
    let latest: Awaited<ReturnType<typeof versionInfo>> | null = null;
    try {
      latest = await versionInfo(repo, repo.getArtifactMetadata(name), now);
    } catch (error) {
      if (!isLabbookError(error, "VERSION_NOT_FOUND")) throw error;
    }
    names.push({ name, versions: repo.versions(name).length, latest });
  }
  if (options.json) {
    printJson(names);
    return;
  }
  if (names.length === 0) {
    process.stderr.write(`No artifacts in ${repo.path}.\n`);
    return;
  }
  print(
    renderGrid(
      ["name", "latest", "created_at", "handler", "size", "versions"],
      names.map((n) =>
        n.latest
          ? [n.name, String(n.latest.version), n.latest.created_at, n.latest.handler, formatBytes(n.latest.size), String(n.versions)]
          : [n.name, "(all expired)", "", "", "", String(n.versions)],
      ),
      tableOptions(),
    ),
  );
}

/** `repo history`: all versions of one name with dates and expiry. */
export async function repoHistory(location: string, name: string, options: { json?: boolean }): Promise<void> {
  const repo = await repositoryAt(location, "r");
  const versions = repo.versions(name);
  if (versions.length === 0) {
    throw new LabbookError("NOT_FOUND", `No artifact named "${name}" in ${repo.path}. It has: ${repo.names().join(", ") || "none"}.`, { path: repo.path });
  }
  const now = new Date();
  const infos = await Promise.all(versions.map((v) => versionInfo(repo, v, now)));
  if (options.json) {
    printJson(infos);
    return;
  }
  print(
    renderGrid(
      ["version", "created_at", "expiry", "handler", "size", "file"],
      infos.map((v) => [
        String(v.version),
        v.created_at,
        v.expiry === null ? "" : `${v.expiry}${v.expired ? " (expired)" : ""}`,
        v.handler,
        formatBytes(v.size),
        v.fname,
      ]),
      tableOptions(),
    ),
  );
}

/** `repo get`: the bytes of one version (latest by default) to stdout or a file. */
export async function repoGet(location: string, name: string, options: { at?: string; asof?: boolean; out?: string }): Promise<void> {
  if (options.asof && options.at === undefined) throw new UsageError("--asof needs --at <date>.");
  const query = {
    version: options.at === undefined ? undefined : versionArg(options.at),
    match: options.asof ? ("asof" as const) : ("exact" as const),
  };
  const repo = await repositoryAt(location, "r");
  const entry = repo.getArtifactMetadata(name, query);
  const stream = await repo.openArtifactStream(name, query);
  await deliver(stream, { size: (await sizeOf(repo, entry)) ?? undefined, label: `${name} v${entry.version}`, out: options.out });
}

/** `repo promote`: an experiment's artifact becomes the next version of the same name. */
export async function repoPromote(location: string, project: string, slug: string, name: string, options: { json?: boolean }): Promise<void> {
  const source = await readProject(project);
  const experiment = experimentIn(source, slug);
  const repo = await repositoryAt(location, "w+");
  const entry = await repo.promote(experiment, name);
  if (options.json) printJson(await versionInfo(repo, entry, new Date()));
  else print(`Promoted "${name}" of ${experiment.slug} to ${repo.path} as version ${entry.version}.`);
}

/** `repo release`: with a tag, pin the latest version of every name; without, list the releases. */
export async function repoRelease(location: string, tag: string | undefined, options: { json?: boolean }): Promise<void> {
  const repo = await repositoryAt(location, tag === undefined ? "r" : "w+");
  const shape = (r: Release) => ({
    tag: r.tag,
    created_at: formatDate(r.createdAt),
    artifacts: r.artifacts.map(([n, v]) => ({ name: n, version: v })),
  });
  if (tag !== undefined) {
    const release = shape(await repo.createRelease(tag));
    if (options.json) printJson(release);
    else print(`Created release "${release.tag}" in ${repo.path}: ${release.artifacts.map((a) => `${a.name} v${a.version}`).join(", ") || "no artifacts"}.`);
    return;
  }
  const releases = (await repo.releases()).map(shape);
  if (options.json) {
    printJson(releases);
    return;
  }
  if (releases.length === 0) {
    process.stderr.write(`No releases in ${repo.path}.\n`);
    return;
  }
  print(
    renderGrid(
      ["tag", "created_at", "artifacts"],
      releases.map((r) => [r.tag, r.created_at, r.artifacts.map((a) => `${a.name} v${a.version}`).join(", ")]),
      tableOptions(),
    ),
  );
}

/** `repo diff`: a unified diff of two text versions (or of one version and the latest). */
export async function repoDiff(location: string, name: string, a: string, b: string | undefined, options: { asof?: boolean }): Promise<void> {
  const repo = await repositoryAt(location, "r");
  const patch = await repo.versionDiff(name, versionArg(a), b === undefined ? undefined : versionArg(b), { match: options.asof ? "asof" : "exact" });
  print(patch);
}
