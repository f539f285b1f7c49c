import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const cliPath = path.join(packageDir, "dist", "cli.js");
const repoDir = path.resolve(packageDir, "../..");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The tests run the built command as a user would. Build it (and what it depends on) when dist is
 * missing or older than src; the root `pnpm test` has normally built it already.
 */
export async function ensureBuilt(): Promise<void> {
  const stale = () => !existsSync(cliPath) || statSync(cliPath).mtimeMs < newestMtime(path.join(packageDir, "src"));
  if (!stale()) return;
  // Several test files may start at once: one builds, the others wait for it.
  const lock = path.join(packageDir, ".cli-test-build.lock");
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (Date.now() > deadline) throw new Error(`Gave up waiting for ${lock}; remove it if no test run is building.`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (!stale()) return;
    const result = spawnSync("pnpm", ["turbo", "run", "build", "--filter=labbook...", "--output-logs=errors-only"], { cwd: repoDir, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`Building labbook failed:\n${result.stdout}\n${result.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as raw bytes, for artifact downloads. */
  bytes: Buffer;
}

/** Run `node dist/cli.js ...args` with stdout and stderr captured (so neither is a terminal). */
export function labbook(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? packageDir,
    env: { ...process.env, ...options.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout.toString("utf8"), stderr: result.stderr.toString("utf8"), bytes: result.stdout };
}
