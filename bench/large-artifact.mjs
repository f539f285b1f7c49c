// A 1 GiB artifact round-trips through local and S3 (moto) storage as streams; peak RSS must stay flat.
// Usage: pnpm turbo run build --filter=@labbook/storage-s3 --filter=@labbook/storage-local && node bench/large-artifact.mjs [GiB] [queueSize]
// (queueSize: S3 parts in flight, default the adapter's own)
// Each storage runs in its own process (peak RSS is per process); moto_server comes from .venv (tooling/ci/setup.sh).
// Node 20 cannot run the TypeScript sources behind the "@labbook/source" condition, so the built dist is used.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MiB = 1024 * 1024;
const LIMIT_MB = 200;

/** `total` bytes in 1 MiB chunks, each a fresh buffer (the consumer may keep it), hashed as they go. */
function source(total, hash) {
  const base = randomBytes(MiB);
  return (async function* () {
    for (let done = 0, i = 0; done < total; done += MiB, i++) {
      const chunk = Buffer.from(base.subarray(0, Math.min(MiB, total - done)));
      chunk.writeUInt32BE(i, 0);
      hash.update(chunk);
      yield chunk;
    }
  })();
}

async function worker(kind, total, where) {
  let storage;
  if (kind === "local") {
    const { LocalStorage } = await import("../packages/storage-local/dist/index.js");
    storage = new LocalStorage(where);
  } else {
    const { S3Storage } = await import("../packages/storage-s3/dist/index.js");
    const queue = process.argv[6] ? { queueSize: Number(process.argv[6]) } : {};
    storage = new S3Storage({
      bucket: "bench",
      endpoint: where,
      region: "us-east-1",
      credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
      ...queue,
    });
  }
  const written = createHash("sha256");
  let lastWrite = 0;
  const t0 = performance.now();
  const result = await storage.write("artifacts/big.bin", source(total, written), { size: total, onProgress: (p) => (lastWrite = p.bytes) });
  const t1 = performance.now();
  const peakAfterWrite = process.resourceUsage().maxRSS / 1024;
  const read = createHash("sha256");
  let bytes = 0;
  let lastRead = 0;
  for await (const chunk of await storage.readStream("artifacts/big.bin", { onProgress: (p) => (lastRead = p.bytes) })) {
    read.update(chunk);
    bytes += chunk.byteLength;
  }
  const t2 = performance.now();
  const writePeak = peakAfterWrite;
  const same = read.digest("hex") === written.digest("hex") && bytes === total && result.size === total;
  console.log(
    JSON.stringify({
      kind,
      bytes: total,
      same,
      progress_ok: lastWrite === total && lastRead === total,
      write_s: (t1 - t0) / 1000,
      read_s: (t2 - t1) / 1000,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      write_peak_rss_mb: writePeak,
    }),
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startMoto() {
  const bin = path.join(process.env.LABBOOK_VENV ?? path.join(root, ".venv"), "bin", "moto_server");
  if (!existsSync(bin)) throw new Error(`No moto_server at ${bin}: run bash tooling/ci/setup.sh first.`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${endpoint}/bench`, { method: "PUT" });
      await r.arrayBuffer();
      if (r.ok) return { endpoint, stop: () => child.kill("SIGTERM") };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error("moto_server did not start");
}

function runWorker(kind, total, where) {
  const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--worker", kind, String(total), where, process.argv[3] ?? ""], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (out.status !== 0) throw new Error(`${kind} worker failed with ${out.status}`);
  return JSON.parse(out.stdout.trim().split("\n").at(-1));
}

if (process.argv[2] === "--worker") {
  await worker(process.argv[3], Number(process.argv[4]), process.argv[5]);
} else {
  const total = Math.round(Number(process.argv[2] ?? 1) * 1024 * MiB);
  const dir = await mkdtemp(path.join(tmpdir(), "labbook-large-"));
  const moto = await startMoto();
  let ok = true;
  try {
    for (const [kind, where] of [
      ["local", dir],
      ["s3", moto.endpoint],
    ]) {
      const r = runWorker(kind, total, where);
      const pass = r.same && r.progress_ok && r.peak_rss_mb < LIMIT_MB;
      ok &&= pass;
      console.log(
        `${kind.padEnd(5)} ${(total / 1024 ** 3).toFixed(2)} GiB  write ${r.write_s.toFixed(1)} s (${(total / MiB / r.write_s).toFixed(0)} MiB/s)  ` +
          `read ${r.read_s.toFixed(1)} s (${(total / MiB / r.read_s).toFixed(0)} MiB/s)  peak RSS ${r.peak_rss_mb.toFixed(0)} MB (${r.write_peak_rss_mb.toFixed(0)} MB by the end of the write)  ` +
          `${r.same ? "bytes identical" : "BYTES DIFFER"}  ${pass ? "ok" : `FAIL (limit ${LIMIT_MB} MB)`}`,
      );
    }
  } finally {
    moto.stop();
    await rm(dir, { recursive: true, force: true });
  }
  process.exitCode = ok ? 0 : 1;
}
