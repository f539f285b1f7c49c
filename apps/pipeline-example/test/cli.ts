import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const experimentModule = path.join(appDir, "src", "experiment.ts");
export const baseParams = path.join(appDir, "params", "base.json");
const cli = path.resolve(appDir, "../../packages/labbook/src/cli.ts");

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `labbook run ...` as a user runs it from source (tsx loads the TypeScript modules); output piped, not a terminal. */
export function labbookRun(args: string[], env: Record<string, string> = {}, cwd = appDir): Result {
  const result = spawnSync(process.execPath, ["--import", "tsx", "--conditions=@labbook/source", cli, "run", ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 240_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** File name → size, mtime and content hash of every file in a folder (empty when it does not exist). */
export function cacheFiles(dir: string): Map<string, { mtimeMs: number; content: string }> {
  const out = new Map<string, { mtimeMs: number; content: string }>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    out.set(name, { mtimeMs: statSync(file).mtimeMs, content: readFileSync(file, "utf8") });
  }
  return out;
}

/** Like labbookRun, without blocking (for several processes at once). */
export function labbookRunAsync(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=@labbook/source", cli, "run", ...args], {
      cwd: appDir,
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
