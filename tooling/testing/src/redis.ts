import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";

const run = promisify(execFile);

/** A running Debian redis-server on 127.0.0.1 (no persistence unless asked, data in a temp dir). */
export interface RedisServer {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  /** `{ host, port }` for BullMQ's `connection` option. */
  readonly connection: { host: string; port: number };
  /** Run one redis-cli command against the server, e.g. `cli("DBSIZE")`; resolves to its output. */
  cli(...args: string[]): Promise<string>;
  /** Kill the server abruptly (SIGKILL), as a crash or a cut network would look to clients. */
  kill(): Promise<void>;
  /** Start it again on the same port and folder (with `persist`, from the last `SAVE`). */
  start(): Promise<void>;
  /** Stop the server and delete its folder. */
  stop(): Promise<void>;
}

/**
 * Path of redis-server (Debian's package, `tooling/ci/setup-redis.sh`), or undefined when missing.
 * Under CI=true a missing server is an error, never a skip.
 */
export function findRedis(): string | undefined {
  const candidates = [process.env.LABBOOK_REDIS_SERVER, "/usr/bin/redis-server", "/usr/local/bin/redis-server"];
  const bin = candidates.find((c): c is string => c !== undefined && existsSync(c));
  if (bin) return bin;
  if (process.env.CI === "true") throw new Error("No redis-server found: run bash tooling/ci/setup-redis.sh first.");
  return undefined;
}

async function waitUntilReady(cli: () => Promise<string>, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} before it was ready:\n${output()}`);
    try {
      if ((await cli()).trim() === "PONG") return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer within ${timeoutMs} ms:\n${output()}`);
}

/**
 * Start redis-server on 127.0.0.1 with a free port, in a temp folder, without persistence (with
 * `persist: true`, `SAVE` writes a dump that `start()` loads after a `kill()`). Resolves to undefined
 * when redis-server is not installed outside CI (the caller skips); throws under CI.
 *
 * @example
 * const redis = await startRedis();
 * afterAll(() => redis?.stop());
 * new Worker("q", processor, { connection: redis.connection });
 */
export async function startRedis(options: { persist?: boolean; timeoutMs?: number } = {}): Promise<RedisServer | undefined> {
  const bin = findRedis();
  if (!bin) return undefined;
  const cliBin = path.join(path.dirname(bin), "redis-cli");
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "labbook-redis-"));
  const args = ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "no"];
  if (options.persist) args.push("--dbfilename", "dump.rdb");
  const cli = async (...command: string[]) => (await run(cliBin, ["-h", "127.0.0.1", "-p", String(port), ...command], { timeout: 10_000 })).stdout;
  let child: ChildProcess | undefined;
  let log = "";
  const launch = async () => {
    log = "";
    const started = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString("utf8")).slice(-8000);
    };
    started.stdout?.on("data", keep);
    started.stderr?.on("data", keep);
    await waitUntilReady(
      () => cli("PING"),
      started,
      () => log,
      options.timeoutMs ?? 30_000,
    );
  };
  const halt = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => current.once("exit", () => resolve()));
    current.kill(signal);
    const timer = setTimeout(() => current.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await launch();
  } catch (error) {
    await halt("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: "127.0.0.1",
    port,
    url: `redis://127.0.0.1:${port}`,
    connection: { host: "127.0.0.1", port },
    cli,
    kill: () => halt("SIGKILL"),
    start: launch,
    async stop() {
      await halt("SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
