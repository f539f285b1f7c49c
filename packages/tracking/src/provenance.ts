import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { type ArtifactEntry, formatDate, isLabbookError, LabbookError, parseDate } from "@labbook/core";
import type { Repository } from "@labbook/repository";

/** The file format labbook reads and writes (lazyscribe 2.x's). */
export const FORMAT_VERSION = "lazyscribe-2";

/** This package's version, from its manifest (the same file in src/ and dist/ layouts). */
export const LABBOOK_VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;

/** One released file: which version of which artifact, and its bytes' digest. */
export interface ManifestLine {
  name: string;
  version: number;
  fname: string;
  size: number;
  sha256: string;
}

/**
 * Where a logged revision came from and what it is made of: enough to rebuild exactly the same
 * files later (see materialize) and to check that they are the same bytes.
 */
export interface ProvenanceBundle {
  /** The revision as given: a release tag, or a date (naive UTC `YYYY-MM-DDTHH:MM:SS`). */
  revision: string;
  /** "release" (a tag of releases.json) or "asof" (each artifact's latest version at that date). */
  kind: "release" | "asof";
  /** What it resolved to: artifact name → version, sorted by name. */
  resolved: Record<string, number>;
  /** sha256 over the sorted `name:version:sha256` lines of the released files, one per line. */
  manifestHash: string;
  manifest: ManifestLine[];
  labbookVersion: string;
  formatVersion: string;
  /** Where the repository is (its repository.json). */
  repository: string;
}

/** The manifest hash: the same bytes always give the same hash, whatever the order or the file names. */
export function manifestHash(lines: ReadonlyArray<Pick<ManifestLine, "name" | "version" | "sha256">>): string {
  const text = lines
    .map((l) => `${l.name}:${l.version}:${l.sha256}`)
    .sort()
    .map((l) => `${l}\n`)
    .join("");
  return createHash("sha256").update(text).digest("hex");
}

/** The revision's `[name, version]` pairs: a release tag first; else a date resolved as of. */
export async function resolveRevision(
  repository: Repository,
  revision: string | Date,
): Promise<{ label: string; kind: ProvenanceBundle["kind"]; pairs: Array<[string, number]> }> {
  if (typeof revision === "string") {
    try {
      const release = await repository.findRelease(revision);
      return { label: revision, kind: "release", pairs: release.artifacts.map(([n, v]) => [n, v]) };
    } catch (error) {
      if (!isLabbookError(error, "VERSION_NOT_FOUND")) throw error;
      let date: Date;
      try {
        date = parseDate(revision, "revision");
      } catch {
        throw new LabbookError(
          "VERSION_NOT_FOUND",
          `Revision "${revision}" of ${repository.path} is neither a release tag nor a date (YYYY-MM-DDTHH:MM:SS). ${(error as Error).message}`,
          { path: repository.path, cause: error },
        );
      }
      return resolveRevision(repository, date);
    }
  }
  if (!(revision instanceof Date) || Number.isNaN(revision.getTime())) {
    throw new LabbookError("INVALID_ARGUMENT", "A revision is a release tag (string) or a date.");
  }
  const view = repository.filter(revision);
  const pairs = view.entries.map((e): [string, number] => [e.name, e.version]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (pairs.length === 0) {
    throw new LabbookError("VERSION_NOT_FOUND", `${repository.path} has no artifact as of ${formatDate(revision)}.`, { path: repository.path });
  }
  return { label: formatDate(revision), kind: "asof", pairs };
}

/** The digest and size of one stored version, from its bytes (entries written by Python have no sha256). */
async function digest(repository: Repository, name: string, version: number): Promise<{ entry: ArtifactEntry; size: number; sha256: string }> {
  const entry = repository.getArtifactMetadata(name, { version });
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of await repository.openArtifactStream(name, { version })) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { entry, size, sha256: hash.digest("hex") };
}

/** The provenance bundle of a revision (reads every released file once to hash it). */
export async function provenanceBundle(repository: Repository, revision: string | Date): Promise<ProvenanceBundle> {
  const { label, kind, pairs } = await resolveRevision(repository, revision);
  const manifest: ManifestLine[] = [];
  for (const [name, version] of pairs) {
    const { entry, size, sha256 } = await digest(repository, name, version);
    manifest.push({ name, version, fname: entry.fname, size, sha256 });
  }
  return {
    revision: label,
    kind,
    resolved: Object.fromEntries(pairs),
    manifestHash: manifestHash(manifest),
    manifest,
    labbookVersion: LABBOOK_VERSION,
    formatVersion: FORMAT_VERSION,
    repository: repository.storage.describe(repository.path),
  };
}

/** The id a logged revision gets in the tracking server. */
export function revisionId(bundle: Pick<ProvenanceBundle, "revision">): string {
  return `labbook-revision:${bundle.revision}`;
}
