/**
 * What the conformance suite cannot say about S3: errors that name bucket and key, credentials and
 * network failures, 409 retries, multipart conditional writes. Real moto servers on 127.0.0.1;
 * "misbehaving servers" are real HTTP proxies in front of moto.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isLabbookError, type LabbookError } from "@labbook/core";
import { S3Storage, type S3StorageOptions } from "@labbook/storage-s3";
import { findMoto, freePort, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BUCKET = "units";
let moto: MotoServer;

function storage(options: Partial<S3StorageOptions> = {}): S3Storage {
  return new S3Storage({ bucket: BUCKET, prefix: "p", endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials, ...options });
}

async function failure(promise: Promise<unknown>): Promise<LabbookError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isLabbookError(error)) throw new Error(`expected a LabbookError, got ${String(error)}`);
  return error;
}

async function* chunks(total: number, fill: number): AsyncIterable<Uint8Array> {
  for (let done = 0; done < total; done += 1024 * 1024) yield new Uint8Array(Math.min(1024 * 1024, total - done)).fill(fill);
}

/** A real HTTP server in front of moto; `intercept` may answer a request itself instead of forwarding it. */
async function proxy(
  intercept: (req: import("node:http").IncomingMessage) => { status: number; body: string } | undefined,
): Promise<{ server: Server; endpoint: string }> {
  const target = new URL(moto.endpoint);
  const server = createServer((req, res) => {
    const answer = intercept(req);
    if (answer) {
      req.resume();
      res.writeHead(answer.status, { "content-type": "application/xml" }).end(answer.body);
      return;
    }
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.on("error", (e) => res.destroy(e));
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(findMoto() === undefined)("S3Storage on moto", () => {
  beforeAll(async () => {
    const started = await startMoto({ buckets: [BUCKET] });
    if (!started) throw new Error("moto did not start");
    moto = started;
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it("probes once and finds that moto honours conditional writes, leaving no probe object", async () => {
    const s = storage({ prefix: "probe" });
    expect(await s.probe()).toBe(true);
    expect(s.capabilities).toEqual({ conditionalWrites: true, locking: false, atomicWrites: true });
    const left = [];
    for await (const info of storage({ prefix: "" }).list("probe/")) left.push(info.key);
    expect(left).toEqual([]);
  });

  it("names the bucket and key when the bucket does not exist", async () => {
    const s = storage({ bucket: "no-such-bucket" });
    // HEAD answers carry no body, so stat cannot tell a missing bucket from a missing key (undefined, like AWS).
    for (const op of [() => s.read("a/b.json"), () => s.readStream("a/b.json"), () => s.write("a/b.json", "x"), () => s.copy("a/b.json", "c.json")]) {
      const error = await failure(op());
      expect(error.code).toBe("STORAGE");
      expect(error.message).toContain("s3://no-such-bucket/p/a/b.json");
      expect(error.message).toContain('bucket "no-such-bucket" does not exist');
      expect((error.cause as Error).name).toBe("NoSuchBucket");
    }
    const listing = await failure(
      (async () => {
        for await (const _ of s.list("a/")) void _;
      })(),
    );
    expect(listing.code).toBe("STORAGE");
  });

  it("reports a server that cannot be reached as STORAGE with the cause", async () => {
    const port = await freePort();
    const s = storage({ endpoint: `http://127.0.0.1:${port}` });
    const error = await failure(s.read("x.json"));
    expect(error.code).toBe("STORAGE");
    expect(error.message).toMatch(/could not reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(error.path).toBe("s3://units/p/x.json");
    expect(error.cause).toBeDefined();
  });

  it("turns rejected credentials into a STORAGE error that says so", async () => {
    const strict = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: "0" } });
    if (!strict) throw new Error("moto did not start");
    try {
      const s = new S3Storage({
        bucket: BUCKET,
        endpoint: strict.endpoint,
        region: strict.region,
        credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" },
      });
      const error = await failure(s.read("x.json"));
      expect(error.code).toBe("STORAGE");
      expect(error.message).toContain("s3://units/x.json");
      expect(error.message).toMatch(/rejected the credentials \(InvalidAccessKeyId\)/);
    } finally {
      await strict.stop();
    }
  });

  it("retries a 409 ConditionalRequestConflict for in-memory bodies; a stream gets CONFLICT", async () => {
    let conflicts = 0;
    const { server, endpoint } = await proxy((req) => {
      if (req.method === "PUT" && req.headers["if-none-match"] === "*" && req.url?.includes("contended") && conflicts < 2) {
        conflicts++;
        return { status: 409, body: "<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation is in progress.</Message></Error>" };
      }
      return undefined;
    });
    try {
      const s = storage({ endpoint, prefix: "conflict", conditionalWrites: true });
      const written = await s.write("contended.json", "{}", { ifNoneMatch: "*" });
      expect(conflicts).toBe(2);
      expect(written.version).toMatch(/.+/);
      expect(new TextDecoder().decode(await s.read("contended.json"))).toBe("{}");

      conflicts = 0;
      const error = await failure(s.write("contended-stream.json", chunks(10, 1), { ifNoneMatch: "*" }));
      expect(error.code).toBe("CONFLICT");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("a missing key under If-Match is a CONFLICT whether the server says 404 or 412", async () => {
    const { server, endpoint } = await proxy((req) =>
      req.method === "PUT" && req.headers["if-match"] ? { status: 412, body: "<Error><Code>PreconditionFailed</Code></Error>" } : undefined,
    );
    try {
      const via412 = storage({ endpoint, prefix: "ifmatch", conditionalWrites: true });
      expect((await failure(via412.write("gone.json", "x", { ifMatch: '"abc"' }))).code).toBe("CONFLICT");
      expect((await failure(storage({ prefix: "ifmatch" }).write("gone.json", "x", { ifMatch: '"abc"' }))).code).toBe("CONFLICT");
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("create-only holds for multipart uploads too, and aborts the upload", async () => {
    const s = storage({ prefix: "multipart" });
    const size = 12 * 1024 * 1024;
    await s.write("big.bin", chunks(size, 7), { ifNoneMatch: "*", size });
    const error = await failure(s.write("big.bin", chunks(size, 9), { ifNoneMatch: "*", size }));
    expect(error.code).toBe("CONFLICT");
    const data = await s.read("big.bin");
    expect(data.byteLength).toBe(size);
    expect(data.every((b) => b === 7)).toBe(true);
  });

  it("writes and reads keys with spaces and symbols under a prefix, and copies them", async () => {
    const s = storage({ prefix: "nested/prefix/" });
    expect(s.describe("a b+c&d.json")).toBe("s3://units/nested/prefix/a b+c&d.json");
    await s.write("a b+c&d.json", "sym");
    await s.copy("a b+c&d.json", "copy/é ü.json");
    expect(new TextDecoder().decode(await s.read("copy/é ü.json"))).toBe("sym");
  });
});
