import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Project } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { type RedisServer, startRedis } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../..");
const require = createRequire(import.meta.url);
const tsxLoader = path.join(path.dirname(require.resolve("tsx/package.json")), "dist", "loader.mjs");

let redis: RedisServer;
beforeAll(async () => {
  const started = await startRedis();
  if (!started) throw new Error("redis-server is not installed: run bash tooling/ci/setup-redis.sh");
  redis = started;
});
afterAll(async () => {
  await redis?.stop();
});

describe("docs/bullmq.md", () => {
  it("its worker and flow example runs as written", async () => {
    const page = await readFile(path.join(repo, "docs", "bullmq.md"), "utf8");
    const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    expect(blocks).toHaveLength(1);
    const code = blocks[0] ?? "";
    expect(code.split("\n").length).toBeLessThanOrEqual(40);
    // A folder where `labbook` and `bullmq` resolve to this workspace's packages, as they would from npm.
    const dir = await mkdtemp(path.join(tmpdir(), "labbook-docs-bullmq-"));
    try {
      await mkdir(path.join(dir, "node_modules"));
      await symlink(path.join(repo, "packages", "labbook"), path.join(dir, "node_modules", "labbook"));
      await symlink(path.dirname(require.resolve("bullmq/package.json")), path.join(dir, "node_modules", "bullmq"));
      await writeFile(path.join(dir, "example.mts"), code);
      const { stdout } = await run(process.execPath, ["--import", tsxLoader, "--conditions=@labbook/source", "--no-warnings", "example.mts"], {
        cwd: dir,
        env: { ...process.env, REDIS_PORT: String(redis.port) },
        timeout: 540_000,
      });
      expect(stdout.trim().split("\n")).toEqual(["1", "5"]);
      const project = await Project.open("project.json", { storage: new LocalStorage(path.join(dir, "runs")), mode: "r" });
      expect(project.experiments.map((e) => e.name).sort()).toEqual(["baseline", "sweep", "train", "train", "train"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
