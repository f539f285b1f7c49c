/**
 * End to end on a real S3 server (moto on 127.0.0.1): projects saved to s3:// through openProject,
 * reopened with their artifacts, two writers at once, and a server that ignores conditional writes.
 * Under CI=true a missing moto fails (findMoto throws).
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { S3Storage } from "@labbook/storage-s3";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLabbookError, openProject } from "../src/index.js";

const BUCKET = "lab";
let moto: MotoServer;

function s3Options() {
  return { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const storage = new S3Storage({ bucket: BUCKET, ...s3Options() });
  const keys: string[] = [];
  for await (const info of storage.list(prefix)) keys.push(info.key);
  return keys;
}

/** A real HTTP server in front of moto that drops If-None-Match / If-Match, as some S3-compatible servers do. */
function headerDroppingProxy(target: string): Promise<Server> {
  const url = new URL(target);
  const server = createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers["if-none-match"];
    delete headers["if-match"];
    const upstream = request({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (error) => res.destroy(error));
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe.skipIf(findMoto() === undefined)("s3:// projects end to end (moto)", () => {
  beforeAll(async () => {
    const started = await startMoto({ buckets: [BUCKET] });
    if (!started) throw new Error("moto did not start");
    moto = started;
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it("saves a project with artifacts to s3:// and reopens it", async () => {
    const big = new Uint8Array(12 * 1024 * 1024).map((_, i) => (i * 31) % 251);
    const project = await openProject(`s3://${BUCKET}/teams/churn/project.json`, { author: "ada", s3: s3Options() });
    expect(project.storage.kind).toBe("s3");
    expect(project.storage.capabilities.conditionalWrites).toBe(true);
    const experiment = await project.log("Baseline model", (exp) => {
      exp.logMetric("auc", 0.91);
      exp.logParameter("depth", 4);
      exp.logArtifact("features", { columns: ["age", "plan"], r\u00e9sum\u00e9: "caf\u00e9" }, { handler: "json" });
      exp.logArtifact("weights", big, { handler: "bytes" });
    });
    await project.save();

    const keys = await keysUnder("teams/churn/");
    expect(keys).toContain("teams/churn/project.json");
    expect(keys.filter((k) => k.startsWith(`teams/churn/${experiment.slug}/`))).toHaveLength(2);

    const reopened = await openProject(`s3://${BUCKET}/teams/churn/project.json`, { mode: "r", s3: s3Options() });
    const again = reopened.get(experiment.slug);
    expect(again.metrics).toEqual({ auc: 0.91 });
    expect(await again.loadArtifact("features")).toEqual({ columns: ["age", "plan"], r\u00e9sum\u00e9: "caf\u00e9" });
    const weights = (await again.loadArtifact("weights")) as Uint8Array;
    expect(weights.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(Buffer.from(weights), Buffer.from(big))).toBe(0);

    // A folder location means <folder>/project.json.
    const byFolder = await openProject(`s3://${BUCKET}/teams/churn`, { mode: "r", s3: s3Options() });
    expect(byFolder.size).toBe(1);
  });

  it("keeps both experiments when two writers save at once", async () => {
    const location = `s3://${BUCKET}/teams/race/project.json`;
    const writers = await Promise.all(["ada", "grace", "edsger"].map((author) => openProject(location, { author, s3: s3Options() })));
    await Promise.all(
      writers.map(async (p, i) => {
        await p.log(`run ${i}`, (exp) => exp.logMetric("i", i));
        await p.save();
      }),
    );
    const reopened = await openProject(location, { mode: "r", s3: s3Options() });
    expect(reopened.experiments.map((e) => e.name).sort()).toEqual(["run 0", "run 1", "run 2"]);
  });

  it("refuses to save on a server that ignores conditional writes, and writes nothing", async () => {
    const proxy = await headerDroppingProxy(moto.endpoint);
    try {
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const options = { ...s3Options(), endpoint };
      const project = await openProject(`s3://${BUCKET}/teams/lossy/project.json`, { author: "ada", s3: options });
      expect(project.storage.capabilities.conditionalWrites).toBe(false);
      await project.log("lost?", (exp) => exp.logArtifact("notes", "hello", { handler: "text" }));
      const error = await project.save().catch((e: unknown) => e);
      expect(isLabbookError(error, "UNSUPPORTED")).toBe(true);
      expect((error as Error).message).toContain("s3://lab/teams/lossy/project.json");
      expect(await keysUnder("teams/lossy/")).toEqual([]);

      // Used directly, the adapter refuses a conditional write rather than overwrite silently.
      const direct = new S3Storage({ bucket: BUCKET, prefix: "teams/lossy-direct", ...options });
      const refused = await direct.write("a.json", "{}", { ifNoneMatch: "*" }).catch((e: unknown) => e);
      expect(isLabbookError(refused, "UNSUPPORTED")).toBe(true);
      expect(direct.capabilities.conditionalWrites).toBe(false);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });
});
