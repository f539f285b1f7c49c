import { createHash } from "node:crypto";
import { assertSafeRelativePath, joinKey, LabbookError, type Storage } from "@labbook/core";
import type { Repository } from "@labbook/repository";
import { type ManifestLine, manifestHash, type ProvenanceBundle, provenanceBundle } from "./provenance.js";

export interface MaterializeOptions {
  /** Where to write (default: the repository's own storage). */
  storage?: Storage | undefined;
  /** Fail unless the rebuilt files hash to this (a bundle's `manifestHash`, e.g. from a logged revision). */
  expectedHash?: string | undefined;
}

export interface Materialized {
  /** The folder the files were written to: `<dir>/<artifact name>/<fname>`, plus its repository.json. */
  dir: string;
  manifestHash: string;
  bundle: ProvenanceBundle;
}

async function hashStored(storage: Storage, key: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of await storage.readStream(key)) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}

/**
 * Rebuild exactly the files of a revision (a release tag or a date, as for logRevision) in `dir`:
 * `<dir>/<name>/<fname>` for each released version and a `repository.json` listing only them, so
 * the folder opens as a repository. The written files are read back and hashed; ARTIFACT_LOAD when
 * their manifest hash is not the revision's (or `expectedHash`).
 *
 * @example
 * const { manifestHash } = await materialize(repo, "v1.0.0", "deploy/models", { expectedHash: logged.bundle.manifestHash })
 */
export async function materialize(repository: Repository, revision: string | Date, dir: string, options: MaterializeOptions = {}): Promise<Materialized> {
  const storage = options.storage ?? repository.storage;
  const bundle = await provenanceBundle(repository, revision);
  const view = repository.filter(Object.entries(bundle.resolved));
  for (const entry of view.entries) {
    assertSafeRelativePath(entry.name, "artifact name");
    assertSafeRelativePath(entry.fname, "artifact file name");
    const key = joinKey(dir, entry.name, entry.fname);
    await storage.write(key, await repository.openArtifactStream(entry.name, { version: entry.version }));
  }
  await storage.write(joinKey(dir, "repository.json"), view.serialize());
  // Verify what is now on the target, not what we meant to write.
  const written: ManifestLine[] = [];
  for (const line of bundle.manifest) {
    written.push({ ...line, ...(await hashStored(storage, joinKey(dir, line.name, line.fname))) });
  }
  const got = manifestHash(written);
  const want = options.expectedHash ?? bundle.manifestHash;
  if (got !== want) {
    throw new LabbookError(
      "ARTIFACT_LOAD",
      `The files of revision "${bundle.revision}" rebuilt in ${storage.describe(dir)} hash to ${got}, not ${want}: ${
        options.expectedHash !== undefined && bundle.manifestHash !== options.expectedHash
          ? "the repository's files are not the ones that were logged (they were changed or replaced)"
          : "a file changed while it was written"
      }.`,
      { path: storage.describe(dir) },
    );
  }
  return { dir, manifestHash: got, bundle };
}
