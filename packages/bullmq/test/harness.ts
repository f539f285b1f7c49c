import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Experiment, Project, type Storage } from "@labbook/core";
import type { Queue } from "bullmq";

const here = path.dirname(fileURLToPath(import.meta.url));
const tsxLoader = path.join(path.dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist", "loader.mjs");

/** One line a worker process printed. */
export interface WorkerEvent {
  worker: string;
  event: "ready" | "started" | "completed" | "failed" | "error";
  id?: string;
  attempt?: number;
  slug?: string;
  message?: string;
  reused?: boolean;
}

export interface WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** Everything the worker processes printed, and a way to wait for a condition on it. */
export class WorkerPool {
  readonly events: WorkerEvent[] = [];
  readonly workers: WorkerProcess[] = [];
  #stderr = "";
  #waiters: Array<() => void> = [];

  spawn(name: string, env: Record<string, string>): WorkerProcess {
    const child = spawn(process.execPath, ["--import", tsxLoader, "--conditions=@labbook/source", "--no-warnings", path.join(here, "fixtures", "worker.ts")], {
      env: { ...process.env, ...env, WORKER_NAME: name },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("{")) this.events.push(JSON.parse(line) as WorkerEvent);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString("utf8")).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const worker = { name, child, exited };
    this.workers.push(worker);
    return worker;
  }

  /** Resolve once `predicate` holds over the events (no fixed sleeps: the machine may be slow). */
  async until(predicate: (events: readonly WorkerEvent[]) => boolean, what: string, timeoutMs = 540_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; worker stderr:\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  }

  async stopAll(): Promise<void> {
    for (const w of this.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGTERM");
    await Promise.all(
      this.workers.map(async (w) => {
        const timer = setTimeout(() => w.child.kill("SIGKILL"), 15_000);
        await w.exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** Wait until every one of `total` jobs has completed or failed for good. */
export async function untilSettled(queue: Queue, total: number, timeoutMs = 540_000): Promise<{ completed: number; failed: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // While Redis is away (the restart test) a count may fail: ask again.
    const counts = await queue.getJobCounts("completed", "failed").catch(() => ({}) as Record<string, number>);
    const completed = counts.completed ?? 0;
    const failed = counts.failed ?? 0;
    if (completed + failed >= total) return { completed, failed };
    if (Date.now() > deadline) throw new Error(`Timed out: ${completed} completed and ${failed} failed of ${total} jobs`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The figures a test reports: which expected jobs are in the project once, missing, or doubled. */
export interface Tally {
  jobs: number;
  expected: number;
  found: number;
  lost: string[];
  duplicated: string[];
  unexpected: string[];
}

/** Count the experiments of each job id (tag `bullmq-job:<id>`) in the stored project. */
export async function tally(storage: Storage, jobs: number, expectedIds: ReadonlySet<string>): Promise<{ tally: Tally; project: Project }> {
  const project = await Project.open("project.json", { storage, mode: "r" });
  const byJob = new Map<string, Experiment[]>();
  for (const e of project) {
    const tag = e.tags.find((t) => t.startsWith("bullmq-job:"));
    if (!tag) continue;
    const id = tag.slice("bullmq-job:".length);
    byJob.set(id, [...(byJob.get(id) ?? []), e]);
  }
  const ids = [...byJob.keys()];
  return {
    project,
    tally: {
      jobs,
      expected: expectedIds.size,
      found: ids.filter((id) => expectedIds.has(id)).length,
      lost: [...expectedIds].filter((id) => !byJob.has(id)),
      duplicated: ids.filter((id) => (byJob.get(id)?.length ?? 0) > 1),
      unexpected: ids.filter((id) => !expectedIds.has(id)),
    },
  };
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
