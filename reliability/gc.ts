/**
 * gc beside writers: processes save experiments into a project and versions into a repository
 * inside its folder (the demo's layout), while gc scans the folder and deletes what it finds, over
 * and over. Planted leftovers (old orphans, temp files of killed writers) must go; nothing any
 * writer acknowledged may, and no index may ever be touched. Local disk: gc's --min-age works on
 * file times, which only a local test can set back.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { isLabbookError, joinKey, Project, parsePyJson } from "../packages/core/src/index.js";
import { validateFile } from "../packages/core/src/internal.js";
import { repositoryFileSchema } from "../packages/core/src/schemas-entry.js";
import { scanForGc } from "../packages/labbook/src/gc.js";
import { LocalStorage } from "../packages/storage-local/src/index.js";
import { checkStored, exited, startWorker, tally } from "./common.js";
import type { RepoWorkerArgs } from "./repo-worker.js";
import type { WorkerArgs } from "./worker.js";

export interface GcFigures {
  /** Experiments and versions the writers acknowledged, plus those there before. */
  written: number;
  found: number;
  lost: number;
  duplicated: number;
  /** Index entries whose file is missing or does not match its sha256 (gc deleted a live file). */
  brokenArtifacts: number;
  /** gc passes that ran while the writers did. */
  gcRounds: number;
  /** gc passes that refused (an index it could not read); on local disk, where writes are atomic, none should. */
  gcRefused: number;
  /** Files gc deleted. */
  deleted: number;
  /** Planted leftovers (old orphans and temp files) still there at the end. */
  leftoversKept: number;
  planted: number;
  failures: string[];
  ms: number;
}

const OLD = new Date(Date.now() - 3 * 3600_000);

async function plant(root: string, rel: string, content: string): Promise<void> {
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  await utimes(file, OLD, OLD);
}

export async function gcBesideWriters(options: {
  root: string;
  writers: number;
  perWriter: number;
  repoPerWriter: number;
  leftovers: number;
  minAgeSeconds?: number;
}): Promise<GcFigures> {
  const started = Date.now();
  const { root } = options;
  const storage = new LocalStorage(root);
  const failures: string[] = [];
  const fail = (m: string) => {
    if (failures.length < 10) failures.push(m);
  };
  // What is there before: experiments in the project, a sub-folder project, versions in a repository
  // inside the project folder (the demo's layout), all hours old so --min-age protects none of it.
  const before = await Project.open("project.json", { storage, author: "before" });
  const nested = await Project.open("team/project.json", { storage, author: "team" });
  for (let i = 0; i < 3; i++) {
    await before.log(`earlier run ${i}`, (e) => {
      e.logParameter("uid", `pre-${i}`);
      e.logArtifact("weights", { i }, { handler: "json" });
    });
    await nested.log(`team run ${i}`, (e) => {
      e.logParameter("uid", `team-${i}`);
      e.logArtifact("notes", `team ${i}\n`, { handler: "text" });
    });
  }
  await before.save();
  await nested.save();
  const { Repository } = await import("../packages/repository/src/index.js");
  const repo = await Repository.open("models/repository.json", { storage });
  for (let i = 0; i < 3; i++) repo.logArtifact(`model-${i % 2}`, { uid: `pre-v-${i}` }, { handler: "json" });
  await repo.save();
  await repo.createRelease("before");
  for await (const info of storage.list("")) await utimes(path.join(root, info.key), OLD, OLD);
  // Leftovers of removed experiments, strays in live folders' places, temp files of killed writers.
  const planted: string[] = [];
  for (let i = 0; i < options.leftovers; i++) {
    const rel = [
      `removed-${i}-20200101000000/model-${i}.bin`,
      `team/dropped-${i}-20200101000000/old.json`,
      `.project.json.99${i}.deadbeef${i}.lbtmp`,
      `models/model-0/.v-${i}.json.99${i}.cafe${i}.lbtmp`,
    ][i % 4] as string;
    await plant(root, rel, rel.endsWith(".json") ? `{"left": ${i}}` : `left over ${i}`);
    planted.push(rel);
  }
  const children: Array<{ child: ChildProcess; what: string }> = [];
  const acknowledged: string[] = [];
  for (let w = 0; w < options.writers; w++) {
    const args: WorkerArgs = { kind: "local", root, writer: w, count: options.perWriter, artifactEvery: 2 };
    const child = startWorker("worker.ts", args, { silent: true });
    child.on("message", (m: { type: string; uid?: string }) => {
      if (m.type === "saved" && m.uid) acknowledged.push(m.uid);
    });
    children.push({ child, what: `writer ${w}` });
  }
  const versionsAcknowledged: string[] = [];
  const repoArgs: RepoWorkerArgs = {
    storage: { kind: "local", root },
    location: "models/repository.json",
    writer: 90,
    count: options.repoPerWriter,
    names: ["model-0", "model-1"],
  };
  const repoWriter = startWorker("repo-worker.ts", repoArgs, { silent: true });
  repoWriter.on("message", (m: { type: string; uid?: string }) => {
    if (m.type === "saved" && m.uid) versionsAcknowledged.push(m.uid);
  });
  children.push({ child: repoWriter, what: "repository writer" });
  let running = true;
  const ended = Promise.all(
    children.map(({ child, what }) =>
      exited(child).catch((error: unknown) => {
        fail(`${what}: ${(error as Error).message.slice(0, 500)}`);
      }),
    ),
  ).then(() => {
    running = false;
  });
  // gc over and over while they write, as `labbook gc --delete --min-age N` does.
  const cutoff = () => Date.now() - (options.minAgeSeconds ?? 600) * 1000;
  let gcRounds = 0;
  let gcRefused = 0;
  let deleted = 0;
  const gcPass = async () => {
    let scan: Awaited<ReturnType<typeof scanForGc>>;
    try {
      scan = await scanForGc(storage, "");
    } catch (error) {
      if (!isLabbookError(error, "INVALID_FORMAT")) throw error;
      gcRefused++;
      fail(`gc refused: ${(error as Error).message.slice(0, 300)}`);
      return;
    }
    for (const f of [...scan.unreferenced, ...scan.temporary]) {
      if (f.lastModified !== undefined && f.lastModified.getTime() > cutoff()) continue;
      for (const index of ["project.json", "models/repository.json", "models/releases.json", "team/project.json"])
        if (f.key === index) fail(`gc chose the index ${index}`);
      await storage.delete(f.key);
      deleted++;
    }
  };
  while (running) {
    await gcPass();
    gcRounds++;
    await new Promise((r) => setTimeout(r, 20));
  }
  await ended;
  await gcPass();

  const check = await checkStored(storage, "project.json");
  const t = tally(["pre-0", "pre-1", "pre-2", ...acknowledged], check.uids);
  let brokenArtifacts = check.brokenArtifacts.length;
  for (const b of check.brokenArtifacts) fail(`project artifact broken: ${b}`);
  const team = await checkStored(storage, "team/project.json");
  brokenArtifacts += team.brokenArtifacts.length;
  const entries = validateFile(
    repositoryFileSchema,
    parsePyJson(new TextDecoder().decode(await storage.read("models/repository.json"))),
    "models/repository.json",
  );
  const uids = new Map<string, number>();
  for (const e of entries) {
    try {
      const bytes = await storage.read(joinKey("models", e.name, e.fname));
      if (createHash("sha256").update(bytes).digest("hex") !== e.sha256) throw new Error("sha256 does not match");
      const uid = String((JSON.parse(new TextDecoder().decode(bytes)) as { uid: unknown }).uid);
      uids.set(uid, (uids.get(uid) ?? 0) + 1);
    } catch (error) {
      brokenArtifacts++;
      fail(`repository ${e.name} v${e.version}: ${(error as Error).message}`);
    }
  }
  const r = tally(["pre-v-0", "pre-v-1", "pre-v-2", ...versionsAcknowledged], uids);
  const teamTally = tally(["team-0", "team-1", "team-2"], team.uids);
  let leftoversKept = 0;
  for (const rel of planted) {
    if (existsSync(path.join(root, rel))) {
      leftoversKept++;
      fail(`leftover ${rel} was not removed`);
    }
  }
  return {
    written: t.written + r.written + teamTally.written,
    found: t.found + r.found + teamTally.found,
    lost: t.lost + r.lost + teamTally.lost,
    duplicated: t.duplicated + r.duplicated + teamTally.duplicated,
    brokenArtifacts,
    gcRounds,
    gcRefused,
    deleted,
    leftoversKept,
    planted: planted.length,
    failures,
    ms: Date.now() - started,
  };
}
