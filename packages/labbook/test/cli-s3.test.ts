/**
 * The built `labbook` command on s3:// locations, against a moto S3 server on 127.0.0.1. The command
 * gets its endpoint and credentials the way a user's shell gives them: AWS_* environment variables.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject } from "../src/index.js";
import { ensureBuilt, labbook } from "./cli-helpers.js";

const moto = findMoto();

describe.skipIf(!moto)("labbook on s3:// locations", () => {
  let server: MotoServer;
  let tmp: string;
  let env: Record<string, string>;
  const blob = randomBytes(1024 * 1024 + 3);

  beforeAll(async () => {
    await ensureBuilt();
    const started = await startMoto({ buckets: ["lab"] });
    if (!started) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
    server = started;
    tmp = mkdtempSync(path.join(tmpdir(), "labbook-cli-s3-"));
    env = {
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_REGION: server.region,
      // Never read a developer's real profile.
      AWS_CONFIG_FILE: path.join(tmp, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, "no-credentials"),
      // The SDK warns on Node 20 that future versions need Node 22; the tests check stderr is otherwise clean.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
    const s3 = { endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true };
    let now = Date.UTC(2024, 8, 1, 12, 0, 0);
    const project = await openProject("s3://lab/team/runs/project.json", { mode: "w", author: "ada", clock: () => new Date(now), s3 });
    for (const [i, name] of ["cloud baseline", "cloud tuned"].entries()) {
      now = Date.UTC(2024, 8, 1, 12, 0, i);
      await project.log(name, async (exp) => {
        exp.logMetric("auc", 0.8 + i / 10);
        exp.tag(i === 0 ? "baseline" : "tuned");
        exp.logArtifact("blob", blob, { handler: "bytes" });
      });
    }
    await project.save();
    // A stray object under an experiment folder, for gc.
    const { S3Storage } = await import("@labbook/storage-s3");
    await new S3Storage({ ...s3, bucket: "lab", prefix: "team/runs" }).write("orphan-20200101000000/old.bin", "old");
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("ls, show and compare read an S3 project", () => {
    const ls = labbook(["ls", "s3://lab/team/runs", "--filter", "metrics.auc > 0.85", "--json"], { env });
    expect(ls.stderr).toBe("");
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout).map((e: { slug: string }) => e.slug)).toEqual(["cloud-tuned-20240901120001"]);
    const show = labbook(["show", "s3://lab/team/runs/project.json", "cloud-baseline", "--json"], { env });
    expect(show.code).toBe(0);
    const details = JSON.parse(show.stdout);
    expect(details.location).toBe("s3://lab/team/runs/cloud-baseline-20240901120000");
    expect(details.artifacts[0]).toMatchObject({
      name: "blob",
      handler: "bytes",
      size: blob.byteLength,
      path: "s3://lab/team/runs/cloud-baseline-20240901120000/blob-20240901120000.bin",
    });
    const compare = labbook(["compare", "s3://lab/team/runs", "cloud-baseline", "cloud-tuned", "--json"], { env });
    expect(JSON.parse(compare.stdout).rows).toEqual([{ field: "metrics.auc", values: [0.8, 0.9], differs: true }]);
  });

  it("artifact get streams an S3 object to stdout and to a file", () => {
    const r = labbook(["artifact", "get", "s3://lab/team/runs", "cloud-tuned", "blob"], { env });
    expect(r.code).toBe(0);
    expect(r.bytes.equals(blob)).toBe(true);
    const out = path.join(tmp, "blob.bin");
    expect(labbook(["artifact", "get", "s3://lab/team/runs", "cloud-tuned", "blob", "--out", out], { env }).code).toBe(0);
    expect(readFileSync(out).equals(blob)).toBe(true);
  });

  it("merge copies S3 experiments and their files to local disk", async () => {
    const into = path.join(tmp, "merged");
    const local = path.join(tmp, "local");
    const project = await openProject(local, { mode: "w", author: "bob" });
    await project.log("on disk", (exp) => exp.logMetric("auc", 0.5));
    await project.save();
    const r = labbook(["merge", "s3://lab/team/runs", local, "--into", into, "--json"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ experiments: 3, copied_files: 2 });
    const got = labbook(["artifact", "get", into, "cloud-baseline", "blob"]);
    expect(got.bytes.equals(blob)).toBe(true);
  });

  it("gc lists objects no index names, and --delete removes them", () => {
    const listed = labbook(["gc", "s3://lab/team/runs", "--min-age", "0", "--json"], { env });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).files).toEqual([
      { key: "orphan-20200101000000/old.bin", path: "s3://lab/team/runs/orphan-20200101000000/old.bin", size: 3, last_modified: expect.any(String) },
    ]);
    expect(labbook(["gc", "s3://lab/team/runs", "--min-age", "0", "--delete"], { env }).code).toBe(0);
    expect(JSON.parse(labbook(["gc", "s3://lab/team/runs", "--min-age", "0", "--json"], { env }).stdout).files).toEqual([]);
  });

  it("a missing S3 project exits 1 with NOT_FOUND; a bad s3:// URL exits 1", () => {
    const r = labbook(["ls", "s3://lab/nothing-here"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No project at s3://lab/nothing-here/project.json");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const bad = labbook(["ls", "s3://"], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Not an s3:// location");
  });
});
