import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { freePort } from "./ports.js";
import { repoRoot } from "./python.js";

/** A running moto S3 server on 127.0.0.1. */
export interface MotoServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly port: number;
  /** Dummy credentials moto accepts; pass them explicitly so no real AWS profile is ever used. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly region: string;
  /** Create a bucket (an unsigned PUT, which moto accepts). */
  createBucket(name: string): Promise<void>;
  /** Stop the server and wait for it to exit. */
  stop(): Promise<void>;
}

/** S3Storage options for a fresh, empty prefix of `bucket` on this server (explicit dummy credentials). */
export function motoStorageOptions(moto: MotoServer, bucket: string) {
  return {
    bucket,
    prefix: `t-${randomUUID()}`,
    endpoint: moto.endpoint,
    forcePathStyle: true,
    region: moto.region,
    credentials: moto.credentials,
  };
}

/**
 * Path of `moto_server` in the project's venv (tooling/ci/setup.sh), or undefined when missing.
 * Under CI=true a missing moto is an error, never a skip.
 */
export function findMoto(): string | undefined {
  const venv = process.env.LABBOOK_VENV ?? path.join(repoRoot, ".venv");
  const bin = path.join(venv, "bin", "moto_server");
  if (existsSync(bin)) return bin;
  if (process.env.CI === "true") throw new Error(`No moto_server at ${bin}: run bash tooling/ci/setup.sh first.`);
  return undefined;
}

async function waitUntilReady(endpoint: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before it was ready:\n${output()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${output()}`);
}

/**
 * Start moto's S3 server on 127.0.0.1 with a free port, wait until it answers and create `buckets`.
 * Resolves to undefined when moto is not installed outside CI (the caller skips); throws under CI.
 *
 * @example
 * const moto = await startMoto({ buckets: ["lab"] });
 * afterAll(() => moto?.stop());
 */
export async function startMoto(
  options: {
    buckets?: string[];
    timeoutMs?: number /** Extra environment, e.g. INITIAL_NO_AUTH_ACTION_COUNT=0 to enforce credentials. */;
    env?: Record<string, string>;
    /**
     * Handle one request at a time (tooling/python/moto_serial.py). moto checks a conditional write
     * and then stores it in two steps on a thread per request, so racing writers can both win; tests
     * of many concurrent writers need this to get S3's atomic answer.
     */
    serial?: boolean;
  } = {},
): Promise<MotoServer | undefined> {
  const bin = findMoto();
  if (!bin) return undefined;
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const [command, ...first] = options.serial ? [path.join(path.dirname(bin), "python"), path.join(repoRoot, "tooling", "python", "moto_serial.py")] : [bin];
  const child = spawn(command as string, [...first, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let log = "";
  const keep = (chunk: Buffer) => {
    // Only the tail matters for a failure message; moto logs every request.
    log = (log + chunk.toString("utf8")).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitUntilReady(endpoint, child, () => log, options.timeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const server: MotoServer = {
    endpoint,
    port,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    region: "us-east-1",
    async createBucket(name) {
      const response = await fetch(`${endpoint}/${encodeURIComponent(name)}`, { method: "PUT" });
      const body = await response.text();
      if (!response.ok) throw new Error(`Could not create bucket ${name} on moto (${response.status}): ${body}`);
    },
    stop,
  };
  try {
    for (const bucket of options.buckets ?? []) await server.createBucket(bucket);
  } catch (error) {
    await stop();
    throw error;
  }
  return server;
}
