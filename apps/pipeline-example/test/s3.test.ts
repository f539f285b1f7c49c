/**
 * The example's cache, project and reports on S3 (a moto server on 127.0.0.1), through the real
 * command with AWS_* variables, as a user's shell would give them: two processes filling one cache at
 * once, then a run that finds every stage cached.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { S3Storage } from "@labbook/storage-s3";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { openProject } from "labbook";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseParams, experimentModule, labbookRun, labbookRunAsync } from "./cli.js";

const moto = findMoto();

describe.skipIf(!moto)("the pipeline example with its data on S3", { timeout: 240_000 }, () => {
  let server: MotoServer;
  let tmp: string;
  let env: Record<string, string>;
  let storage: S3Storage;

  beforeAll(async () => {
    const started = await startMoto({ buckets: ["lab"] });
    if (!started) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
    server = started;
    tmp = mkdtempSync(path.join(tmpdir(), "labbook-pipeline-s3-"));
    env = {
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_REGION: server.region,
      AWS_CONFIG_FILE: path.join(tmp, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, "no-credentials"),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
    storage = new S3Storage({
      bucket: "lab",
      prefix: "pipe",
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
      forcePathStyle: true,
    });
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function listing(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for await (const info of storage.list("cache/")) out.set(info.key, `${info.size}:${info.version}:${info.lastModified?.getTime()}`);
    return out;
  }

  it("two processes fill one cache at once without corrupting it; a third run finds every stage cached", async () => {
    const args = [experimentModule, "-p", baseParams, "--data", "s3://lab/pipe"];
    const [a, b] = await Promise.all([labbookRunAsync(args, env), labbookRunAsync(args, env)]);
    expect([a.code, b.code, a.stderr.match(/labbook: .*/)?.[0], b.stderr.match(/labbook: .*/)?.[0]]).toEqual([0, 0, undefined, undefined]);
    const first = await listing();
    expect(first.size).toBe(14 * 2);
    // Every entry is whole: each sidecar parses, names its file, and that file parses as JSON.
    const records = new Set<string>();
    for (const key of first.keys()) {
      if (!key.endsWith("_metadata.json")) continue;
      const meta = JSON.parse(new TextDecoder().decode(await storage.read(key)));
      expect(key).toBe(`cache/toy-classifier_${meta.hash}_${meta.stage}_${meta.output}_metadata.json`);
      const value = JSON.parse(new TextDecoder().decode(await storage.read(`cache/${meta.file}`)));
      if (meta.stage === "train" && meta.output === "model") {
        records.add(meta.record);
        expect(value.w).toHaveLength(2);
      }
    }
    const base = JSON.parse(readFileSync(baseParams, "utf8")) as Array<{ name: string }>;
    expect(records).toEqual(new Set(base.map((s) => s.name)));

    const third = labbookRun(args, env);
    expect(third.code).toBe(0);
    expect(await listing()).toEqual(first);
    const project = await openProject("s3://lab/pipe/project.json", {
      mode: "r",
      s3: { endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true },
    });
    const runs = project.experiments.filter((e) => e.tags.includes("pipeline-run"));
    // The two concurrent runs got different numbers.
    expect(runs.map((e) => e.parameters.run_number).sort()).toEqual([1, 2, 3]);
    expect(runs.every((e) => e.parameters.status === "done")).toBe(true);
    expect(await storage.stat("reports/index.html")).toBeDefined();
  });
});
