import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type RedisServer, startRedis } from "@labbook-internal/testing";
import { openProject } from "labbook";
import { afterAll, beforeAll, expect, it } from "vitest";

const run = promisify(execFile);
const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let redis: RedisServer;
beforeAll(async () => {
  const started = await startRedis();
  if (!started) throw new Error("redis-server is not installed: run bash tooling/ci/setup-redis.sh");
  redis = started;
});
afterAll(async () => {
  await redis?.stop();
});

it("the example starts two workers, runs its jobs and its flow, and prints the project", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "labbook-example-"));
  try {
    const project = path.join(dir, "project.json");
    const { stdout } = await run("pnpm", ["--silent", "start"], {
      cwd: app,
      env: { ...process.env, PROJECT: project, REDIS_URL: redis.url, JOBS: "4" },
      timeout: 540_000,
    });
    expect(stdout).toMatch(/flow "sweep": 3 children appended in one save; best loss/);
    const stored = await openProject(project, { mode: "r" });
    expect(stored.size).toBe(8); // 4 jobs, 3 flow children, the flow's own experiment
    expect(stdout).toContain(`${stored.size} experiments`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 600_000);
