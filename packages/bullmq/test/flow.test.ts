import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isLabbookError, Project, type Storage, type WriteOptions, type WriteResult } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { type RedisServer, startRedis } from "@labbook-internal/testing";
import { FlowProducer, type Job, Queue, QueueEvents, Worker } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { addExperimentFlow, type FlowSummary, findRun, type LabbookJobResult, labbookProcessor } from "../src/index.js";
import { untilSettled } from "./harness.js";

let redis: RedisServer;
let root: string;
let storage: LocalStorage;
let indexWrites: number;
const closers: Array<() => Promise<unknown>> = [];

/** Counts the writes of the project index, to see how many saves a flow makes. */
class CountingStorage extends LocalStorage {
  override write(key: string, data: Parameters<Storage["write"]>[1], options?: WriteOptions): Promise<WriteResult> {
    if (key === "project.json") indexWrites++;
    return super.write(key, data, options);
  }
}

beforeAll(async () => {
  const started = await startRedis();
  if (!started) throw new Error("redis-server is not installed: run bash tooling/ci/setup-redis.sh");
  redis = started;
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "labbook-bullmq-flow-"));
  storage = new CountingStorage(root);
  indexWrites = 0;
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await rm(root, { recursive: true, force: true });
});

function worker(queueName: string, fn: (exp: Parameters<Parameters<typeof labbookProcessor>[0]>[0], job: Job) => unknown) {
  const w = new Worker(queueName, labbookProcessor(fn, { project: () => Project.open("project.json", { storage, author: "worker" }) }), {
    connection: { ...redis.connection, maxRetriesPerRequest: null },
    concurrency: 4,
  });
  closers.push(() => w.close());
  return w;
}

function queue(name: string): Queue {
  const q = new Queue(name, { connection: redis.connection });
  closers.push(async () => {
    await q.obliterate({ force: true });
    await q.close();
  });
  return q;
}

async function resultOf(q: Queue, id: string | undefined) {
  const job = await q.getJob(String(id));
  return job;
}

describe("a flow of experiments: children log, the parent appends them all and saves once", () => {
  it("50 children, 3 failing for good: one save with the 47 others, the failures recorded, the best child summarised", async () => {
    const q = queue("flow-50");
    const events = new QueueEvents("flow-50", { connection: redis.connection });
    closers.push(() => events.close());
    worker("flow-50", (exp, job) => {
      const { lr } = job.data as { lr: number };
      if ([7, 21, 33].includes(Math.round(lr * 1000))) throw new Error(`diverged at lr ${lr}`);
      exp.logMetric("auc", 1 - Math.abs(lr - 0.025));
      exp.logArtifact("curve", [lr, lr / 2], { handler: "json" });
    });
    const producer = new FlowProducer({ connection: redis.connection });
    closers.push(() => producer.close());
    const node = await addExperimentFlow(producer, {
      name: "sweep",
      queueName: "flow-50",
      best: { metric: "auc" },
      children: Array.from({ length: 50 }, (_, i) => ({ name: "train", data: { lr: (i + 1) / 1000 } })),
    });
    const summary = (await node.job.waitUntilFinished(events, 540_000)) as FlowSummary;

    expect(indexWrites).toBe(1);
    const project = await Project.open("project.json", { storage, mode: "r" });
    const children = project.filter((e) => e.name === "train");
    expect(children).toHaveLength(47);
    expect(new Set(children.map((e) => e.parameters.lr)).size).toBe(47);
    for (const e of children) expect(await e.loadArtifact("curve")).toEqual([e.parameters.lr, (e.parameters.lr as number) / 2]);
    const own = project.get("sweep");
    expect(own.tags).toContain("labbook-flow");
    expect(own.metrics).toMatchObject({ succeeded: 47, failed: 3 });
    const failedIds = Object.keys(summary.failed).map((key) => key.split(":").at(-1));
    expect(own.tags.filter((t) => t.startsWith("failed-child:")).sort()).toEqual(failedIds.map((id) => `failed-child:${id}`).sort());
    const test = own.tests.find((t) => t.name === "failed children");
    expect(Object.values(test?.parameters ?? {}).sort()).toEqual(["diverged at lr 0.007", "diverged at lr 0.021", "diverged at lr 0.033"]);
    expect(summary).toMatchObject({ succeeded: 47, slug: own.slug, best: { metric: "auc", value: 1, slug: expect.any(String) } });
    expect(findRun(project, summary.best?.run ?? "")?.parameters.lr).toBe(0.025);
    await events.close();
    expect(q.name).toBe("flow-50");
  }, 600_000);

  it("with failParentOnFailure the parent fails with the child and nothing is saved", async () => {
    const q = queue("flow-strict");
    worker("flow-strict", (exp, job) => {
      if ((job.data as { n: number }).n === 2) throw new Error("child 2 broke");
      exp.logMetric("n", (job.data as { n: number }).n);
    });
    const producer = new FlowProducer({ connection: redis.connection });
    closers.push(() => producer.close());
    await addExperimentFlow(producer, {
      name: "strict",
      queueName: "flow-strict",
      failParentOnFailure: true,
      children: [1, 2, 3].map((n) => ({ name: "train", data: { n } })),
    });
    await untilSettled(q, 4);
    expect(await q.getJobCounts("completed", "failed")).toEqual({ completed: 2, failed: 2 });
    expect(indexWrites).toBe(0);
  }, 600_000);
});

describe("labbookProcessor on a real Redis", () => {
  it("refuses job data that are not parameters with a typed error, before any work and without retries", async () => {
    const q = queue("bad-data");
    let ran = 0;
    const w = worker("bad-data", () => {
      ran++;
    });
    const errors: unknown[] = [];
    w.on("failed", (_job, error) => errors.push(error));
    await q.add("train", [1, 2, 3], { attempts: 3 });
    await q.add("train", "not an object", { attempts: 3 });
    await untilSettled(q, 2);
    expect(ran).toBe(0);
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(isLabbookError(error, "INVALID_ARGUMENT")).toBe(true);
    const failed = await q.getFailed();
    expect(failed.map((j) => j.attemptsMade)).toEqual([1, 1]);
    expect(failed[0]?.failedReason).toMatch(/plain object of parameters/);
    expect(indexWrites).toBe(0);
  }, 600_000);

  it("a job's experiment has its parameters, tags, progress and return value; a job that fails adds nothing", async () => {
    const q = queue("plain");
    worker("plain", async (exp, job) => {
      await job.updateProgress({ epoch: 3, note: "x" });
      await job.updateProgress(80);
      if ((job.data as { fail?: boolean }).fail) throw new Error("no");
      exp.logMetric("loss", 0.5);
      return "trained";
    });
    const ok = await q.add("fit", { lr: 0.1, layers: [2, 3] });
    await q.add("fit", { fail: true });
    await untilSettled(q, 2);
    const done = await resultOf(q, ok.id);
    const result = done?.returnvalue as LabbookJobResult<string>;
    expect(result).toMatchObject({ value: "trained", stored: true, run: `bullmq/plain/${ok.id}/${ok.timestamp}` });
    const project = await Project.open("project.json", { storage, mode: "r" });
    expect(project.size).toBe(1);
    const exp = project.get(result.slug);
    expect(exp.parameters).toEqual({ lr: 0.1, layers: [2, 3] });
    expect(exp.metrics).toEqual({ "progress.epoch": 3, progress: 80, loss: 0.5 });
    expect(exp.tags).toEqual([`labbook-run:${result.run}`, "bullmq-queue:plain", `bullmq-job:${ok.id}`]);
    expect(indexWrites).toBe(1);
  }, 600_000);
});
