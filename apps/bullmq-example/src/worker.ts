// One worker process: trains a toy model per job and logs it as an experiment of the project.
import { Worker } from "bullmq";
import { openProject } from "labbook";
import { labbookProcessor } from "labbook/bullmq";

const location = process.env.PROJECT ?? "./runs/project.json";
const connection = { host: process.env.REDIS_HOST ?? "127.0.0.1", port: Number(process.env.REDIS_PORT ?? 6379), maxRetriesPerRequest: null };

const processor = labbookProcessor(
  async (exp, job) => {
    const { lr, epochs } = job.data as { lr: number; epochs: number };
    let loss = 1;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      loss *= 1 - Math.min(0.9, lr * 10) * 0.5;
      await job.updateProgress(Math.round((epoch / epochs) * 100));
    }
    exp.logMetric("loss", Number(loss.toFixed(6)));
    exp.logArtifact("model", { lr, epochs, loss }, { handler: "json" });
    return loss;
  },
  { project: () => openProject(location) },
);

const worker = new Worker("experiments", processor, { connection, concurrency: 2 });
worker.on("completed", (job) => console.log(`[worker ${process.pid}] ${job.name} ${job.id} done`));
worker.on("failed", (job, error) => console.log(`[worker ${process.pid}] ${job?.name} ${job?.id} failed: ${error.message}`));
process.on("SIGTERM", () => void worker.close().then(() => process.exit(0)));
