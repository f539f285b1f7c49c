/**
 * The issue-12 scenarios as `pnpm reliability` runs them: merges into a project beside writers and
 * beside other merges, concurrent promotes into one repository, and gc running beside writers.
 * Local ones run before moto starts, S3 ones while it runs; each returns totals run.ts adds up and
 * the figures of every scenario for results.json. Sizes: LABBOOK_RELIABILITY_MERGE_PER_WRITER,
 * _MERGE_ROUNDS and _MERGE_WRITERS (local merges: rounds of 4 merges beside that many writers),
 * _PROMOTE_ROUNDS, _GC_PER_WRITER.
 */
import { rm } from "node:fs/promises";
import type { StorageSpec } from "./common.js";
import { gcBesideWriters } from "./gc.js";
import { mergeRounds } from "./merges.js";
import { concurrentPromotes } from "./promotes.js";
import { tempDir } from "./scenarios.js";

const setting = (name: string, fallback: number): number => Number(process.env[`LABBOOK_RELIABILITY_${name}`] ?? fallback);

export interface LossTotals {
  written: number;
  found: number;
  lost: number;
  duplicated: number;
  corrupt: number;
  /** Scenario failures (a merge that did not finish, a gc that refused, a leftover kept…): each is a failed run. */
  failures: string[];
  details: Record<string, unknown>;
}

function empty(): LossTotals {
  return { written: 0, found: 0, lost: 0, duplicated: 0, corrupt: 0, failures: [], details: {} };
}

async function inTemp<T>(prefix: string, run: (root: string) => Promise<T>): Promise<T> {
  const root = await tempDir(prefix);
  try {
    return await run(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function mergesAndPromotes(
  totals: LossTotals,
  label: string,
  storage: () => Promise<StorageSpec>,
  size: { perWriter: number; rounds: number; mergeRounds: number; mergeWriters: number },
) {
  const merges = await mergeRounds({
    rounds: size.mergeRounds,
    storage: () => storage(),
    writers: size.mergeWriters,
    perWriter: size.perWriter,
    merges: 4,
    perSource: 10,
  });
  totals.written += merges.written;
  totals.found += merges.found;
  totals.lost += merges.lost;
  totals.duplicated += merges.duplicated;
  totals.corrupt += merges.brokenArtifacts;
  totals.failures.push(...merges.failures.map((f) => `merges ${label}: ${f}`));
  totals.details[`merges${label}`] = merges;
  const promotes = await concurrentPromotes({ storage: await storage(), rounds: size.rounds, processes: 4 });
  totals.lost += promotes.lost;
  totals.duplicated += promotes.duplicated;
  totals.corrupt += promotes.outOfOrder + promotes.badFiles;
  totals.failures.push(...promotes.failures.map((f) => `promotes ${label}: ${f}`));
  totals.details[`promotes${label}`] = promotes;
}

/** Merges, promotes and gc beside writers on local disk. */
export async function lossScenariosLocal(): Promise<LossTotals> {
  const totals = empty();
  const roots: string[] = [];
  const local = async (): Promise<StorageSpec> => {
    const root = await tempDir("loss");
    roots.push(root);
    return { kind: "local", root };
  };
  try {
    await mergesAndPromotes(totals, "Local", local, {
      perWriter: setting("MERGE_PER_WRITER", 100),
      rounds: setting("PROMOTE_ROUNDS", 20),
      mergeRounds: setting("MERGE_ROUNDS", 4),
      mergeWriters: setting("MERGE_WRITERS", 6),
    });
  } finally {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  }
  const gc = await inTemp("gc-writers", (root) =>
    gcBesideWriters({ root, writers: 4, perWriter: setting("GC_PER_WRITER", 100), repoPerWriter: 50, leftovers: 40 }),
  );
  totals.written += gc.written;
  totals.found += gc.found;
  totals.lost += gc.lost;
  totals.duplicated += gc.duplicated;
  totals.corrupt += gc.brokenArtifacts;
  totals.failures.push(...gc.failures.map((f) => `gc: ${f}`));
  totals.details.gcBesideWriters = gc;
  return totals;
}

/** Merges and promotes on S3 (moto): `spec(prefix)` gives a fresh prefix of the bucket. */
export async function lossScenariosS3(spec: (prefix: string) => StorageSpec): Promise<LossTotals> {
  const totals = empty();
  let n = 0;
  await mergesAndPromotes(totals, "S3", async () => spec(`loss-${n++}`), {
    perWriter: Math.ceil(setting("MERGE_PER_WRITER", 100) / 2),
    rounds: Math.ceil(setting("PROMOTE_ROUNDS", 20) / 2),
    mergeRounds: 1,
    mergeWriters: 4,
  });
  return totals;
}
