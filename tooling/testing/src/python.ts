import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root (tooling/testing/src/ → ../../..). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * The Python of the project's venv (made by tooling/ci/setup.sh), or undefined when it is missing.
 * Under CI=true a missing venv is an error, never a skip.
 */
export function findPython(): string | undefined {
  const venv = process.env.LABBOOK_VENV ?? path.join(repoRoot, ".venv");
  const python = path.join(venv, "bin", "python");
  if (existsSync(python)) return python;
  if (process.env.CI === "true") throw new Error(`No Python venv at ${venv}: run bash tooling/ci/setup.sh first.`);
  return undefined;
}

/** Run a Python script with arguments in the venv; resolves to stdout. */
export async function runPython(script: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const python = findPython();
  if (!python) throw new Error("No Python venv: run bash tooling/ci/setup.sh first.");
  const { stdout } = await run(python, [script, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
