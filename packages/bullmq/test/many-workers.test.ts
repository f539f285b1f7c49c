import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatDate, type Storage } from "@labbook/core";
import { forEachLimit } from "@labbook/core/internal";
import { LocalStorage } from "@labbook/storage-local";
import { S3Storage } from "@labbook/storage-s3";
import { motoStorageOptions, type RedisServer, startMoto, startRedis } from "@labbook-internal/testing";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seeded, tally, untilSettled, WorkerPool } from "./harness.js";

const JOBS = Number(process.env.LABBOOK_BULLMQ_JOBS ?? 200);
const WORKERS = 4;
const ATTEMPTS = 3;

let redis: RedisServer | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** 200 jobs, some failing once or twice and then succeeding, some failing every attempt. */
function plan(seed: number) {
  const random = seeded(seed);
  return Array.from({ length: JOBS }, (_, i) => {
    const r = random();
    const failOn = r < 0.15 ? [1] : r < 0.25 ? [1, 2] : r < 0.32 ? [1, 2, 3] : [];
    return { i, failOn };
  });
}

async function runMany(target: Record<string, unknown>, storage: Storage, queueName: string) {
  if (!redis) throw new Error("no redis");
  const seed = Number(process.env.LABBOOK_BULLMQ_SEED ?? Date.now() % 100_000);
  const jobs = plan(seed);
  const queue = new Queue(queueName, { connection: redis.connection });
  const pool = new WorkerPool();
  try {
    for (let w = 0; w < WORKERS; w++) {
      pool.spawn(`w${w}`, {
        REDIS_PORT: String(redis.port),
        QUEUE: queueName,
        LABBOOK_TARGET: JSON.stringify(target),
        CONCURRENCY: process.env.LABBOOK_BULLMQ_CONCURRENCY ?? "3",
      });
    }
    const started = Date.now();
    const added = await queue.addBulk(jobs.map((data) => ({ name: "train", data, opts: { attempts: ATTEMPTS, backoff: { type: "fixed", delay: 50 } } })));
    const settled = await untilSettled(queue, JOBS);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const ids = added.map((j) => String(j.id));
    const succeeded = new Set(ids.filter((_, i) => (jobs[i]?.failOn.length ?? 0) < ATTEMPTS));
    const { tally: figures, project } = await tally(storage, JOBS, succeeded);
    console.log(
      `[bullmq] ${target.kind}: seed ${seed}, ${JOBS} jobs, ${WORKERS} workers, ${succeeded.size} succeeded, found ${figures.found}, lost ${figures.lost.length}, duplicated ${figures.duplicated.length}, failed jobs stored ${figures.unexpected.length}; settled in ${seconds} s`,
    );
    expect(settled).toEqual({ completed: succeeded.size, failed: JOBS - succeeded.size });
    expect(figures.lost).toEqual([]);
    expect(figures.duplicated).toEqual([]);
    expect(figures.unexpected).toEqual([]);
    expect(figures.found).toBe(succeeded.size);
    expect(project.size).toBe(succeeded.size);
    // Every worker took part, and every stored experiment is whole: its artifact loads and says which job.
    expect(new Set(pool.events.filter((e) => e.event === "completed").map((e) => e.worker)).size).toBe(WORKERS);
    const client = await queue.client;
    await forEachLimit(project.experiments, 8, async (e) => {
      const id = (e.tags.find((t) => t.startsWith("bullmq-job:")) ?? "").slice("bullmq-job:".length);
      const data = jobs[ids.indexOf(id)];
      expect(e.parameters).toEqual({ i: data?.i, failOn: data?.failOn });
      expect(e.metrics).toMatchObject({ score: (data?.i ?? 0) / 1000, progress: 100 });
      expect(await e.loadArtifact("result")).toMatchObject({ i: data?.i, attempt: (data?.failOn.length ?? 0) + 1 });
      // The slug's timestamp is the first attempt's, even for a job that succeeded on its third.
      const first = Number(await client.hget(`bull:${queueName}:${id}`, "labbookFirstAttemptAt"));
      expect(e.record.created_at).toBe(formatDate(new Date(first)));
    });
  } finally {
    await pool.stopAll();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

describe(`${JOBS} jobs across ${WORKERS} worker processes, with failures and retries, into one project`, () => {
  it("on local disk: every successful job exactly once, failed ones not at all", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "labbook-bullmq-"));
    try {
      await runMany({ kind: "local", root }, new LocalStorage(root), "many-local");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 600_000);

  it("on S3 (moto): every successful job exactly once, failed ones not at all", async () => {
    const moto = await startMoto({ buckets: ["lab"] });
    if (!moto) throw new Error("moto_server is not installed: run bash tooling/ci/setup.sh");
    try {
      const options = motoStorageOptions(moto, "lab");
      await runMany({ kind: "s3", options }, new S3Storage(options), "many-s3");
    } finally {
      await moto.stop();
    }
  }, 600_000);
});
