// Starts Redis (or uses REDIS_URL), two worker processes, then queues a few jobs and a flow and
// prints the project they were collected into. Run: pnpm example:bullmq
import { fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FlowProducer, Queue, QueueEvents } from "bullmq";
import { openProject } from "labbook";
import { addExperimentFlow, type FlowSummary } from "labbook/bullmq";
import { localRedis } from "./redis.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const location = path.resolve(process.env.PROJECT ?? "runs/project.json");
const workers = Number(process.env.WORKERS ?? 2);
const jobs = Number(process.env.JOBS ?? 6);

const redis = await localRedis();
const env = { ...process.env, PROJECT: location, REDIS_HOST: redis.connection.host, REDIS_PORT: String(redis.connection.port) };
const children = Array.from({ length: workers }, () => fork(path.join(here, "worker.ts"), { env }));
const queue = new Queue("experiments", { connection: redis.connection });
const events = new QueueEvents("experiments", { connection: redis.connection });
const producer = new FlowProducer({ connection: redis.connection });
try {
  const added = await queue.addBulk(
    Array.from({ length: jobs }, (_, i) => ({ name: "train", data: { lr: 0.01 * (i + 1), epochs: 5 }, opts: { attempts: 3 } })),
  );
  await Promise.all(added.map((job) => job.waitUntilFinished(events)));
  const flow = await addExperimentFlow(producer, {
    name: "sweep",
    queueName: "experiments",
    best: { metric: "loss", mode: "min" },
    children: [0.02, 0.05, 0.08].map((lr) => ({ name: "sweep-train", data: { lr, epochs: 10 } })),
  });
  const summary = (await flow.job.waitUntilFinished(events)) as FlowSummary;
  console.log(`flow "sweep": ${summary.succeeded} children appended in one save; best loss ${summary.best?.value} (${summary.best?.run})`);
  const project = await openProject(location, { mode: "r" });
  console.log(`${project.path}: ${project.size} experiments`);
  for (const e of project) console.log(`  ${e.slug.padEnd(36)} ${String(e.parameters.lr ?? "").padEnd(5)} loss=${e.metrics.loss ?? "-"}`);
} finally {
  await Promise.all([queue.close(), events.close(), producer.close()]);
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((child) => new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r(null)))));
  await redis.stop();
}
