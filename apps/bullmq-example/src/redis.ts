import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** A Redis to talk to: REDIS_URL when set, else a throwaway redis-server on 127.0.0.1 (no persistence). */
export interface LocalRedis {
  connection: { host: string; port: number };
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

export async function localRedis(): Promise<LocalRedis> {
  if (process.env.REDIS_URL) {
    const url = new URL(process.env.REDIS_URL);
    return { connection: { host: url.hostname, port: Number(url.port || 6379) }, stop: async () => {} };
  }
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "labbook-example-redis-"));
  const child: ChildProcess = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (error) =>
      reject(new Error(`Could not start redis-server (${error.message}): install it (apt-get install redis-server) or set REDIS_URL.`)),
    );
  });
  // Ready once it accepts a connection.
  const ready = (async () => {
    for (let i = 0; i < 300; i++) {
      if (await accepts(port)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`redis-server did not start on port ${port}`);
  })();
  await Promise.race([ready, failed]);
  console.log(`started redis-server on 127.0.0.1:${port}`);
  return {
    connection: { host: "127.0.0.1", port },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
