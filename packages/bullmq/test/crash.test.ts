import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LocalStorage } from "@labbook/storage-local";
import { type RedisServer, startRedis } from "@labbook-internal/testing";
import { Queue } from "bullmq";
import { afterEach, describe, expect, it } from "vitest";
import { tally, untilSettled, WorkerPool } from "./harness.js";

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function setup(persist: boolean) {
  const redis = (await startRedis({ persist })) as RedisServer;
  if (!redis) throw new Error("redis-server is not installed: run bash tooling/ci/setup-redis.sh");
  cleanup.push(() => redis.stop());
  const root = await mkdtemp(path.join(tmpdir(), "labbook-bullmq-crash-"));
  cleanup.push(() => rm(root, { recursive: true, force: true }));
  const pool = new WorkerPool();
  cleanup.push(() => pool.stopAll());
  const queue = new Queue("crash", { connection: { ...redis.connection, maxRetriesPerRequest: null } });
  cleanup.push(() => queue.close());
  // Short locks so a dead worker's job is noticed soon; nothing below waits a fixed time.
  const env = {
    REDIS_PORT: String(redis.port),
    QUEUE: "crash",
    LABBOOK_TARGET: JSON.stringify({ kind: "local", root }),
    LOCK_MS: "3000",
    STALLED_MS: "1000",
    CONCURRENCY: "2",
  };
  return { redis, storage: new LocalStorage(root), pool, queue, env };
}

describe("workers and Redis that die mid-run", () => {
  it("a worker killed with SIGKILL mid-job: another worker retries the job, the project stays whole", async () => {
    const { storage, pool, queue, env } = await setup(false);
    const victim = pool.spawn("victim", env);
    const job = await queue.add("train", { i: 0, holdMs: 600_000 }, { attempts: 3 });
    await pool.until((events) => events.some((e) => e.worker === "victim" && e.event === "started" && e.id === job.id), "the victim to start the job");
    pool.spawn("rescuer", env);
    const others = await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: "train", data: { i: i + 1 }, opts: { attempts: 3 } })));
    victim.child.kill("SIGKILL");
    await victim.exited;
    await untilSettled(queue, 11);

    const ids = new Set([String(job.id), ...others.map((j) => String(j.id))]);
    const { tally: figures, project } = await tally(storage, 11, ids);
    console.log(
      `[bullmq] SIGKILL: 11 jobs, 2 workers (1 killed mid-job), found ${figures.found}, lost ${figures.lost.length}, duplicated ${figures.duplicated.length}`,
    );
    expect(figures).toMatchObject({ found: 11, lost: [], duplicated: [], unexpected: [] });
    expect(project.size).toBe(11);
    const rescued = project.experiments.find((e) => e.tags.includes(`bullmq-job:${job.id}`));
    expect(rescued?.author).toBe("rescuer");
    expect(pool.events.some((e) => e.worker === "rescuer" && e.event === "completed" && e.id === job.id)).toBe(true);
    for (const e of project) expect(await e.loadArtifact("result")).toMatchObject({ i: e.parameters.i });
  }, 600_000);

  it("Redis killed mid-run and restarted from an older dump: no experiment reported done is lost or doubled", async () => {
    const { redis, storage, pool, queue, env } = await setup(true);
    const JOBS = 60;
    for (const name of ["w0", "w1"]) pool.spawn(name, env);
    const added = await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: "train", data: { i, holdMs: 150 }, opts: { attempts: 5 } })));
    const completed = (events: readonly { event: string }[]) => events.filter((e) => e.event === "completed").length;
    await pool.until((events) => completed(events) >= 10, "10 completed jobs");
    await redis.cli("SAVE");
    // Jobs that complete from here on are forgotten by the restarted Redis: it has them as active.
    await pool.until((events) => completed(events) >= 20, "10 more completed jobs");
    await redis.kill();
    const reportedBeforeCrash = new Set(pool.events.filter((e) => e.event === "completed").map((e) => String(e.id)));
    await redis.start();
    await untilSettled(queue, JOBS);

    const ids = new Set(added.map((j) => String(j.id)));
    const { tally: figures, project } = await tally(storage, JOBS, ids);
    const reused = pool.events.filter((e) => e.event === "completed" && e.reused).length;
    console.log(
      `[bullmq] Redis restart: ${JOBS} jobs, 2 workers, ${reportedBeforeCrash.size} reported done before the crash, ${reused} re-run jobs found already stored, found ${figures.found}, lost ${figures.lost.length}, duplicated ${figures.duplicated.length}`,
    );
    for (const id of reportedBeforeCrash) expect(figures.lost).not.toContain(id);
    expect(figures).toMatchObject({ found: JOBS, lost: [], duplicated: [], unexpected: [] });
    expect(project.size).toBe(JOBS);
    for (const e of project) expect(await e.loadArtifact("result")).toMatchObject({ i: e.parameters.i });
  }, 600_000);
});
