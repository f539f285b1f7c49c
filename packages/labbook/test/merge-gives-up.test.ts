/**
 * `labbook merge --into C` when the merge keeps losing its race to writers saving into C: its save
 * gives up with CONFLICT and the command saves again. That second save once returned without
 * writing (nothing looked changed), so the merge exited 0 and its experiments were never in C
 * (the reliability suite lost a whole merge that way). Here the ordering is forced on real local
 * disk: right before each of the merge's first conditional index writes, a rival saves into C.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Storage } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { S3Storage } from "@labbook/storage-s3";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { merge } from "../src/cli/merge.js";
import { openProject } from "../src/open.js";

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "labbook-merge-gives-up-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(tmp, { recursive: true, force: true });
});

async function makeProject(folder: string, author: string, names: string[]): Promise<void> {
  const project = await openProject(folder, { mode: "a", author });
  for (const name of names) await project.log(name, (e) => e.logArtifact("summary", { name }, { handler: "json" }));
  await project.save();
}

async function namesIn(folder: string): Promise<string[]> {
  const project = await openProject(folder, { mode: "r" });
  return project.experiments.map((e) => e.name).sort();
}

/**
 * For the next `times` conditional writes of the index at `target` (through `Adapter`), a rival
 * process-like writer saves into the target first, so each of those writes meets a real CONFLICT.
 */
function rivalBeforeIndexWrites(
  Adapter: { prototype: Storage },
  isTarget: (storage: Storage) => boolean,
  target: string,
  times: number,
): { rivals: string[]; left: () => number } {
  const rivals: string[] = [];
  let left = times;
  let busy = false;
  const write = Adapter.prototype.write;
  vi.spyOn(Adapter.prototype, "write").mockImplementation(async function (this: Storage, key, data, options) {
    if (!busy && left > 0 && key === "project.json" && options?.ifMatch !== undefined && isTarget(this)) {
      left--;
      busy = true;
      try {
        const rival = await openProject(target, { mode: "a", author: "rival" });
        const name = `rival ${rivals.length}`;
        rivals.push(name);
        await rival.log(name, () => {});
        await rival.save();
      } finally {
        busy = false;
      }
    }
    return write.call(this, key, data, options);
  });
  return { rivals, left: () => left };
}

async function mergeAgainstRivals(target: string, Adapter: { prototype: Storage }, isTarget: (storage: Storage) => boolean): Promise<void> {
  const a = path.join(tmp, "a");
  const b = path.join(tmp, "b");
  await makeProject(target, "t", ["t0"]);
  await makeProject(a, "a", ["a0", "a1"]);
  await makeProject(b, "b", ["b0"]);
  // 12 lost races: more than one save()'s 9 attempts, so the command's own retry has to commit.
  const { rivals, left } = rivalBeforeIndexWrites(Adapter, isTarget, target, 12);
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);

  await merge([a, b], target, { json: true });

  expect(left()).toBe(0);
  expect(await namesIn(target)).toEqual(["a0", "a1", "b0", "t0", ...rivals].sort());
  const merged = await openProject(target, { mode: "r" });
  const a1 = merged.experiments.find((e) => e.name === "a1");
  expect(await a1?.loadArtifact("summary")).toEqual({ name: "a1" });
}

describe("labbook merge that gives up against writers and saves again", () => {
  it("on local disk: commits every merged experiment (with its artifact) beside every rival's", async () => {
    const target = path.join(tmp, "target");
    await mergeAgainstRivals(target, LocalStorage, (s) => (s as LocalStorage).root === target);
  });
});

// findMoto() throws under CI=true when moto is missing, so CI fails instead of skipping.
const haveMoto = findMoto() !== undefined;

describe.skipIf(!haveMoto)("labbook merge that gives up against writers and saves again, on S3", () => {
  let moto: MotoServer | undefined;
  const saved: Record<string, string | undefined> = {};
  const env = (server: MotoServer): Record<string, string> => ({
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    AWS_REGION: server.region,
    AWS_CONFIG_FILE: path.join(tmpdir(), "labbook-no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmpdir(), "labbook-no-aws-credentials"),
  });
  beforeAll(async () => {
    moto = await startMoto({ buckets: ["merges"] });
    if (!moto) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
    // The command takes S3 settings from the environment, as a user's shell gives them.
    for (const [k, v] of Object.entries(env(moto))) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  }, 120_000);
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await moto?.stop();
  });

  it("commits every merged experiment (with its artifact) beside every rival's", async () => {
    await mergeAgainstRivals("s3://merges/target", S3Storage, (s) => (s as S3Storage).bucket === "merges" && (s as S3Storage).prefix === "target/");
  }, 120_000);
});
