/**
 * Hostile places for the S3 adapter: an endpoint that accepts connections and never answers, bucket
 * names that are not bucket names, and errors that must name the endpoint really in use.
 */
import { createServer, type Server, type Socket } from "node:net";
import { isLabbookError, type LabbookError } from "@labbook/core";
import { assertBucketName, S3Storage } from "@labbook/storage-s3";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

async function failure(promise: Promise<unknown>): Promise<LabbookError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isLabbookError(error)) throw new Error(`expected a LabbookError, got ${String(error)}`);
  return error;
}

function thrown(fn: () => unknown): LabbookError {
  try {
    fn();
  } catch (error) {
    if (isLabbookError(error)) return error;
    throw error;
  }
  throw new Error("expected a LabbookError");
}

/** A TCP server on 127.0.0.1 that accepts every connection and never sends a byte. */
export async function silentServer(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("an endpoint that accepts and never answers", () => {
  it("times out with a STORAGE error that names the endpoint, within the configured time", async () => {
    const silent = await silentServer();
    try {
      const storage = new S3Storage({
        bucket: "lab",
        endpoint: silent.endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "k", secretAccessKey: "s" },
        connectionTimeout: 300,
        requestTimeout: 300,
      });
      const started = Date.now();
      for (const attempt of [() => storage.read("project.json"), () => storage.stat("project.json"), () => storage.write("x.json", "{}")]) {
        const error = await failure(attempt());
        expect(error.code).toBe("STORAGE");
        expect(error.message).toContain(silent.endpoint);
        expect(error.message).toMatch(/did not answer in time .*requestTimeout/);
      }
      // Three calls, each three attempts of 0.3 s plus the SDK's back-off: far below the 60 s the issue saw.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await silent.close();
    }
  }, 30_000);
});

describe("bucket names", () => {
  it("refuses names outside S3's rules, so s3://../victim cannot address another bucket", () => {
    for (const bad of [
      "..",
      ".",
      "a",
      "UPPER",
      "has_underscore",
      "a..b",
      "-dash",
      "dash-",
      "192.168.1.1",
      "xn--bucket",
      "b-s3alias",
      `${"a".repeat(64)}`,
      "a/b",
    ]) {
      const error = thrown(() => new S3Storage({ bucket: bad }));
      expect(error.code, bad).toBe("INVALID_ARGUMENT");
      expect(error.message).toContain("not a valid S3 bucket name");
    }
    for (const good of ["lab", "team-lab.2024", "a".repeat(63), "my.bucket-1"]) expect(() => assertBucketName(good)).not.toThrow();
  });
});

const moto = findMoto();

describe.skipIf(!moto)("errors name the endpoint in use", () => {
  let server: MotoServer;
  beforeAll(async () => {
    const started = await startMoto({ buckets: ["present"] });
    if (!started) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
    server = started;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("maxBytes refuses a bigger object before reading its body", async () => {
    const storage = new S3Storage({ bucket: "present", endpoint: server.endpoint, region: server.region, credentials: server.credentials });
    await storage.write("big.json", "x".repeat(5000));
    const error = await failure(storage.readVersioned("big.json", { maxBytes: 4096 }));
    expect(error.code).toBe("INVALID_FORMAT");
    expect(error.message).toContain("s3://present/big.json is 5000 bytes");
    expect((await storage.readVersioned("big.json", { maxBytes: 5000 })).data.byteLength).toBe(5000);
  });

  it("a missing bucket behind AWS_ENDPOINT_URL_S3 names that endpoint, not AWS S3", async () => {
    const saved = process.env.AWS_ENDPOINT_URL_S3;
    process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
    try {
      const storage = new S3Storage({ bucket: "absent", region: server.region, credentials: server.credentials, forcePathStyle: true });
      const error = await failure(storage.read("project.json"));
      expect(error.code).toBe("STORAGE");
      expect(error.message).toContain(`bucket "absent" does not exist at ${server.endpoint}`);
      expect(error.message).not.toContain("AWS S3");
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
      else process.env.AWS_ENDPOINT_URL_S3 = saved;
    }
  });

  it("an endpoint from AWS_ENDPOINT_URL_S3 gets path-style addressing, like an explicit endpoint", async () => {
    const saved = process.env.AWS_ENDPOINT_URL_S3;
    // A host name, as a MinIO or Ceph endpoint has (for an IP address the SDK picks path style itself).
    process.env.AWS_ENDPOINT_URL_S3 = server.endpoint.replace("127.0.0.1", "localhost");
    try {
      // No endpoint and no forcePathStyle: virtual-host addressing would ask for "present.localhost".
      const storage = new S3Storage({ bucket: "present", prefix: "env", region: server.region, credentials: server.credentials });
      await storage.write("a.json", "[]");
      expect(new TextDecoder().decode(await storage.read("a.json"))).toBe("[]");
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
      else process.env.AWS_ENDPOINT_URL_S3 = saved;
    }
  });

  it("wrong credentials on a HEAD (stat) say the credentials were rejected, not 'access denied (Unknown)'", async () => {
    const strict = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: "0" } });
    if (!strict) throw new Error("moto did not start");
    try {
      const storage = new S3Storage({
        bucket: "units",
        endpoint: strict.endpoint,
        region: strict.region,
        credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" },
      });
      const error = await failure(storage.stat("project.json"));
      expect(error.code).toBe("STORAGE");
      expect(error.message).toContain("s3://units/project.json");
      expect(error.message).toContain(`${strict.endpoint} rejected the credentials (InvalidAccessKeyId)`);
      expect(error.message).not.toContain("Unknown");
    } finally {
      await strict.stop();
    }
  });
});
