import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { repoRoot } from "./python.js";

const run = promisify(execFile);

/** A running MLflow tracking server on 127.0.0.1 (sqlite backend, local artifacts served through the proxy). */
export interface MlflowServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** The folder holding mlflow.db and the artifacts (removed by stop). */
  readonly dir: string;
  /**
   * Run a Python snippet in the venv with `client` (an `MlflowClient` on this server) and `mlflow`
   * in scope; whatever it assigns to `result` is printed as JSON and returned.
   */
  python<T = unknown>(code: string, env?: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

function venv(): string {
  return process.env.LABBOOK_VENV ?? path.join(repoRoot, ".venv");
}

/**
 * Path of `mlflow` in the project's venv (tooling/ci/setup-tracking.sh), or undefined when missing.
 * Under CI=true a missing MLflow is an error, never a skip.
 */
export function findMlflow(): string | undefined {
  const bin = path.join(venv(), "bin", "mlflow");
  if (existsSync(bin)) return bin;
  if (process.env.CI === "true") throw new Error(`No mlflow at ${bin}: run bash tooling/ci/setup-tracking.sh first.`);
  return undefined;
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mlflow server exited with ${child.exitCode} before it was ready:\n${output()}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`mlflow server did not answer on ${url} within ${timeoutMs} ms:\n${output()}`);
}

const PRELUDE = `
import json, math, sys
import mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient(sys.argv[1])
result = None
`;

/**
 * Start `mlflow server` (3.17, from the venv) on 127.0.0.1 with a free port, a sqlite backend and a
 * local artifact destination served through `--serve-artifacts`; one worker and no job execution,
 * so it starts in about 20 s. Resolves to undefined when MLflow is missing outside CI (the caller
 * skips); throws under CI.
 *
 * @example
 * const mlflow = await startMlflow();
 * afterAll(() => mlflow?.stop());
 */
export async function startMlflow(options: { timeoutMs?: number } = {}): Promise<MlflowServer | undefined> {
  const bin = findMlflow();
  if (!bin) return undefined;
  const dir = await mkdtemp(path.join(tmpdir(), "labbook-mlflow-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ["server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1"];
  args.push("--backend-store-uri", `sqlite:///${path.join(dir, "mlflow.db")}`);
  args.push("--artifacts-destination", path.join(dir, "artifacts"), "--serve-artifacts");
  const child = spawn(bin, args, {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    // Own process group, so stop() also ends the workers the server forks.
    detached: true,
    env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false", MLFLOW_TRACKING_URI: url },
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(url, child, () => log, options.timeoutMs ?? 120_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const python = path.join(venv(), "bin", "python");
  return {
    url,
    port,
    dir,
    async python<T>(code: string, env: Record<string, string> = {}): Promise<T> {
      const script = `${PRELUDE}\n${code}\nprint("\\n__RESULT__" + json.dumps(result))\n`;
      const { stdout } = await run(python, ["-c", script, url], {
        cwd: dir,
        env: { ...process.env, MLFLOW_TRACKING_URI: url, ...env },
        maxBuffer: 64 * 1024 * 1024,
      });
      const marker = stdout.lastIndexOf("__RESULT__");
      return JSON.parse(stdout.slice(marker + "__RESULT__".length)) as T;
    },
    stop,
  };
}
