/** The viewer on an s3:// project (moto on 127.0.0.1): listing, artifact bytes, and a live update found by polling. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject } from "../src/index.js";
import { startViewer, type ViewerServer } from "../src/ui/server.js";
import { httpGet } from "./ui-http.js";

let moto: MotoServer;
let dir: string;
let viewer: ViewerServer;
let s3: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; forcePathStyle: boolean };
const location = "s3://lab/team/runs/project.json";

beforeAll(async () => {
  const started = await startMoto({ buckets: ["lab"] });
  // A missing moto is a failure here, never a skip.
  if (!started) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
  moto = started;
  s3 = { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials, forcePathStyle: true };
  dir = await mkdtemp(path.join(os.tmpdir(), "labbook-ui-s3-"));
  await mkdir(path.join(dir, "assets"));
  await writeFile(path.join(dir, "index.html"), "<!doctype html><html><head></head><body></body></html>");
  const project = await openProject(location, { mode: "w", author: "ada", s3 });
  await project.log("cloud run", (exp) => {
    exp.logMetric("auc", 0.8);
    exp.logArtifact("notes", "stored in S3", { handler: "text" });
  });
  await project.save();
  viewer = await startViewer({ location, s3, assetsDir: dir, pollMs: 200 });
}, 180_000);

afterAll(async () => {
  await viewer?.close();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("labbook ui on S3", () => {
  it("lists the experiments and serves an artifact through its index entry", async () => {
    const list = (await httpGet(viewer.port, "/api/project/runs/experiments")).json() as { total: number; rows: Array<{ slug: string }> };
    expect(list.total).toBe(1);
    const slug = list.rows[0]!.slug;
    const notes = await httpGet(viewer.port, `/api/project/runs/experiments/${slug}/artifacts/notes`);
    expect(notes.status).toBe(200);
    expect(notes.text).toBe("stored in S3");
  });

  it("notices another writer's save by polling and announces it", async () => {
    const controller = new AbortController();
    const res = await fetch(`${viewer.url}api/events`, { signal: controller.signal });
    const reader = res.body!.getReader();
    let seen = "";
    const next = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`event stream ended before ${pattern}`);
        seen += new TextDecoder().decode(value);
      }
    };
    await next(/event: hello/);
    const writer = await openProject(location, { mode: "a", author: "grace", s3 });
    await writer.log("second cloud run", (exp) => exp.logMetric("auc", 0.9));
    await writer.save();
    await next(/event: change\ndata: \{"kind":"project","id":"runs","generation":1\}/);
    controller.abort();
    expect(((await httpGet(viewer.port, "/api/project/runs/experiments")).json() as { total: number }).total).toBe(2);
  });
});
