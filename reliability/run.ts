/**
 * `pnpm reliability`: the reliability suite at full settings. Prints one line of figures and writes
 * them to reliability/results.json. Settings can be scaled down with LABBOOK_RELIABILITY_WRITERS,
 * _PER_WRITER and _CRASH_TRIALS for a quick look; the S3 and repository scenarios have their own
 * (_S3_PER_WRITER, _REPO_PER_WRITER, _S3_REPO_PER_WRITER, _FAULT_SAVES, _FAULT_RATE), and
 * so do the loss scenarios of reliability/loss.ts (_SAME_SLUG_PER_WRITER, _OVERWRITE_TRIALS) and
 * reliability/loss-concurrent.ts (_MERGE_PER_WRITER, _MERGE_ROUNDS, _MERGE_WRITERS, _PROMOTE_ROUNDS,
 * _GC_PER_WRITER). reliability/merge-loop.ts runs only the merges beside writers, round after round.
 *
 * S3 runs on moto (a Python server on 127.0.0.1). The whole run takes about 10 minutes on 2 cores;
 * the repository on S3 runs 8 × 100 because every version is a separate object checked afterwards.
 * The totals written/found/lost/duplicated add up every
 * concurrency scenario (projects and repositories, local and S3) and the loss scenarios of
 * reliability/loss.ts (merges beside writers, concurrent promotes, gc beside writers; about 4 more
 * minutes); `details` has each one.
 */
import { writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { startMoto } from "../tooling/testing/src/index.js";
import { reliabilityDir, type StorageSpec } from "./common.js";
import { faultsRepositoryS3, faultsS3 } from "./faults.js";
import { overwriteCrashLocal, sameSlugLocal } from "./loss.js";
import { type LossTotals, lossScenariosLocal, lossScenariosS3 } from "./loss-concurrent.js";
import { badInputCases, concurrency, concurrencyLocal, concurrencyRepository, crashLocal, tempDir } from "./scenarios.js";

const setting = (name: string, fallback: number): number => Number(process.env[`LABBOOK_RELIABILITY_${name}`] ?? fallback);
const writers = setting("WRITERS", 8);
const perWriter = setting("PER_WRITER", 250);
const trials = setting("CRASH_TRIALS", 200);
const s3PerWriter = setting("S3_PER_WRITER", 250);
const repoPerWriter = setting("REPO_PER_WRITER", 250);
const s3RepoPerWriter = setting("S3_REPO_PER_WRITER", 100);
const faultSaves = setting("FAULT_SAVES", 40);
const faultRate = setting("FAULT_RATE", 0.2);

const local = await concurrencyLocal({ writers, perWriter });
const crash = await crashLocal({ trials });
const sameSlug = await sameSlugLocal({ writers, perWriter: setting("SAME_SLUG_PER_WRITER", 50) });
const overwriteCrash = await overwriteCrashLocal({ trials: setting("OVERWRITE_TRIALS", 40) });
const repoRoot_ = await tempDir("repo-concurrency");
const repoLocal = await concurrencyRepository({ writers, perWriter: repoPerWriter, names: 3, storage: { kind: "local", root: repoRoot_ } });
await rm(repoRoot_, { recursive: true, force: true });
const lossLocal = await lossScenariosLocal();

const moto = await startMoto({ buckets: ["reliability"] });
if (!moto) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh first.");
const s3 = (prefix: string): Extract<StorageSpec, { kind: "s3" }> => ({
  kind: "s3",
  endpoint: moto.endpoint,
  bucket: "reliability",
  prefix,
  region: moto.region,
  credentials: moto.credentials,
});
let onS3: Awaited<ReturnType<typeof concurrency>>;
let repoS3: Awaited<ReturnType<typeof concurrencyRepository>>;
let faults: Awaited<ReturnType<typeof faultsS3>>;
let repoFaults: Awaited<ReturnType<typeof faultsRepositoryS3>>;
let lossS3: LossTotals;
try {
  onS3 = await concurrency({ writers, perWriter: s3PerWriter, storage: s3("concurrency") });
  repoS3 = await concurrencyRepository({ writers, perWriter: s3RepoPerWriter, names: 3, storage: s3("repo-concurrency") });
  faults = await faultsS3({ saves: faultSaves, storage: s3("faults"), faultRate });
  repoFaults = await faultsRepositoryS3({ saves: faultSaves, storage: s3("repo-faults"), faultRate });
  lossS3 = await lossScenariosS3(s3);
} finally {
  await moto.stop();
}
const bad = badInputCases();

function pick(f: Awaited<ReturnType<typeof concurrencyRepository>>) {
  const { writers: _w, names: _n, ...rest } = f;
  return rest;
}

const scenarios = [local, onS3, repoLocal, repoS3];
// Merges, concurrent promotes and gc beside writers (issue 12) add to every total.
const loss = [lossLocal, lossS3];
const sum = (key: "written" | "found" | "lost" | "duplicated") => scenarios.reduce((n, f) => n + f[key], 0) + loss.reduce((n, l) => n + l[key], 0);
const results = {
  writers,
  written: sum("written") + sameSlug.written,
  found: sum("found") + sameSlug.found,
  lost: sum("lost") + crash.lost + faults.lost + repoFaults.lost + sameSlug.lost + overwriteCrash.lost,
  duplicated: sum("duplicated") + crash.duplicated + faults.duplicated + repoFaults.duplicated + sameSlug.duplicated,
  crashTrials: crash.crashTrials,
  corrupt:
    crash.corrupt +
    scenarios.reduce((n, f) => n + f.tornReads + f.brokenArtifacts, 0) +
    repoLocal.missingVersions +
    repoLocal.duplicateVersions +
    repoS3.missingVersions +
    repoS3.duplicateVersions +
    faults.invalidAfterFailure +
    faults.invalidAfterSuccess +
    repoFaults.invalid +
    sameSlug.mixed +
    sameSlug.lostReported +
    sameSlug.brokenArtifacts +
    overwriteCrash.corrupt +
    lossLocal.corrupt +
    lossS3.corrupt,
  faultsInjected: faults.faultsInjected + repoFaults.faultsInjected,
  failedClean: faults.failedClean + repoFaults.failedClean,
  badInputs: bad.passed,
  details: {
    projectLocal: {
      perWriter,
      written: local.written,
      found: local.found,
      tornReads: local.tornReads,
      reads: local.reads,
      brokenArtifacts: local.brokenArtifacts,
      conflictsRetried: local.conflicts,
      ms: local.ms,
    },
    projectS3: {
      perWriter: s3PerWriter,
      written: onS3.written,
      found: onS3.found,
      lost: onS3.lost,
      duplicated: onS3.duplicated,
      tornReads: onS3.tornReads,
      reads: onS3.reads,
      brokenArtifacts: onS3.brokenArtifacts,
      conflictsRetried: onS3.conflicts,
      ms: onS3.ms,
    },
    repositoryLocal: { names: 3, perWriter: repoPerWriter, ...pick(repoLocal) },
    repositoryS3: { names: 3, perWriter: s3RepoPerWriter, ...pick(repoS3) },
    crash: { killedDuringSave: crash.killedDuringSave, brokenArtifacts: crash.brokenArtifacts, failures: crash.failures.slice(0, 10), ms: crash.ms },
    sameSlugLocal: sameSlug,
    overwriteCrashLocal: { ...overwriteCrash, failures: overwriteCrash.failures.slice(0, 10) },
    faultsProjectS3: { faultRate, ...faults },
    faultsRepositoryS3: { faultRate, ...repoFaults },
    ...lossLocal.details,
    ...lossS3.details,
    badInputOrPropertyCasesFailed: bad.failed,
    propertiesPassed: bad.properties,
    propertyRuns: 500,
    node: process.version,
    measuredAt: new Date().toISOString(),
  },
};
writeFileSync(path.join(reliabilityDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log(
  `writers=${results.writers} written=${results.written} found=${results.found} lost=${results.lost} duplicated=${results.duplicated} crashTrials=${results.crashTrials} corrupt=${results.corrupt} faultsInjected=${results.faultsInjected} failedClean=${results.failedClean} badInputs=${results.badInputs}`,
);
const ok =
  results.lost === 0 &&
  results.duplicated === 0 &&
  results.corrupt === 0 &&
  results.found === results.written &&
  bad.failed === 0 &&
  faults.untyped + repoFaults.untyped + faults.gaveUp === 0 &&
  faults.failures.length + repoFaults.failures.length + overwriteCrash.failures.length + lossLocal.failures.length + lossS3.failures.length === 0;
process.exit(ok ? 0 : 1);
