import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileFilter, openProject } from "../src/index.js";
import { ARTIFACT_CSP, PAGE_CSP, startViewer, type ViewerServer } from "../src/ui/server.js";
import { openSources } from "../src/ui/sources.js";
import { makeViewerFixture, type ViewerFixture } from "./ui-fixture.js";
import { httpGet } from "./ui-http.js";

let dir: string;
let fx: ViewerFixture;
let assets: string;
let viewer: ViewerServer;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "labbook-ui-server-"));
  fx = await makeViewerFixture(path.join(dir, "ws"), { experiments: 60, rich: 4 });
  // A stand-in for the built page: the server serves whatever index.html and assets/ it is given.
  assets = path.join(dir, "assets-dir");
  await mkdir(path.join(assets, "assets"), { recursive: true });
  writeFileSync(path.join(assets, "index.html"), '<!doctype html><html><head><script type="module" src="/assets/app.js"></script></head><body></body></html>');
  writeFileSync(path.join(assets, "assets", "app.js"), `console.log(${JSON.stringify("x".repeat(2000))});`);
  writeFileSync(path.join(dir, "secret.txt"), "top secret");
  viewer = await startViewer({ location: fx.registryFile, assetsDir: assets, pollMs: 50 });
  port = viewer.port;
});

afterAll(async () => {
  await viewer?.close();
  await rm(dir, { recursive: true, force: true });
});

type Rows = {
  total: number;
  rows: Array<{ slug: string; metrics: Record<string, number>; parameters: Record<string, unknown>; history: boolean; report: boolean }>;
};

describe("labbook ui server: API", () => {
  it("serves on 127.0.0.1 and lists the registry's projects and repository", async () => {
    expect(viewer.url).toBe(`http://127.0.0.1:${port}/`);
    const res = await httpGet(port, "/api/sources");
    expect(res.status).toBe(200);
    const { sources } = res.json() as { sources: Array<{ id: string; kind: string }> };
    expect(sources.map((s) => `${s.kind}:${s.id}`).sort()).toEqual(["project:features", "project:runs", "repository:models"]);
  });

  it("lists experiments with flattened parameters, history and report flags", async () => {
    const res = await httpGet(port, "/api/project/runs/experiments", { gzip: true });
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBe("gzip");
    const body = res.json() as Rows;
    expect(body.total).toBe(60);
    expect(body.rows).toHaveLength(60);
    const first = body.rows[0]!;
    expect(Object.keys(first.parameters).sort()).toEqual(fx.parameters);
    expect(Object.keys(first.metrics).sort()).toEqual(fx.metrics);
    expect(body.rows.filter((r) => r.history).map((r) => r.slug)).toEqual(fx.rich);
    expect(body.rows.filter((r) => r.report).map((r) => r.slug)).toEqual(fx.pipelineRuns);
  });

  it("filters with the CLI's filter language and returns what compileFilter keeps", async () => {
    const expression = "metrics.auc > 0.8 and parameters.model.depth >= 4 and not tags has gpu";
    const res = await httpGet(port, `/api/project/runs/experiments?filter=${encodeURIComponent(expression)}`);
    expect(res.status).toBe(200);
    const project = await openProject(fx.project, { mode: "r" });
    const expected = project.filter(compileFilter(expression)).map((e) => e.slug);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(60);
    expect((res.json() as Rows).rows.map((r) => r.slug)).toEqual(expected);
  });

  it("refuses a bad filter with the CLI's error message and code", async () => {
    const expression = "metrics.auc >> 3";
    let message = "";
    try {
      compileFilter(expression);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/column/);
    const res = await httpGet(port, `/api/project/runs/experiments?filter=${encodeURIComponent(expression)}`);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ error: { code: "INVALID_ARGUMENT", message } });
  });

  it("shows one experiment with tests, artifacts (of tests too) and linked dependencies", async () => {
    const slug = fx.rich[1]!;
    const res = await httpGet(port, `/api/project/runs/experiments/${slug}`);
    expect(res.status).toBe(200);
    const body = res.json() as {
      experiment: { tests: Array<{ name: string }> };
      artifacts: Array<{ name: string; test: string | null; sha256?: string }>;
      dependencies: Array<{ project: string; link?: string; slug: string }>;
    };
    expect(body.experiment.tests.map((t) => t.name)).toEqual(["holdout", "recent"]);
    expect(body.artifacts.map((a) => `${a.test ?? ""}/${a.name}`).sort()).toEqual(
      ["/config", "/metric-history", "/notes", "/plot", "/predictions", "/weights", "holdout/confusion", "recent/confusion"].sort(),
    );
    expect(body.dependencies).toEqual([expect.objectContaining({ project: "features", link: "features", slug: expect.stringMatching(/^features-v2-/) })]);
  });

  it("serves artifact bytes as stored, with a sandbox CSP, inline or as a download", async () => {
    const slug = fx.rich[0]!;
    const png = await httpGet(port, `/api/project/runs/experiments/${slug}/artifacts/plot`);
    expect(png.status).toBe(200);
    expect(png.headers["content-type"]).toBe("image/png");
    expect(png.headers["content-security-policy"]).toBe(ARTIFACT_CSP);
    expect(png.body.equals(readFileSync(path.join(fx.project, slug, "plot.png")))).toBe(true);
    const download = await httpGet(port, `/api/project/runs/experiments/${slug}/artifacts/notes?download=1`);
    expect(download.headers["content-disposition"]).toMatch(/^attachment; filename="notes-\d+\.txt"$/);
    expect(download.text).toContain("Second line.");
    const bin = await httpGet(port, `/api/project/runs/experiments/${slug}/artifacts/weights`);
    expect(bin.headers["content-disposition"]).toMatch(/^attachment/);
    const test = await httpGet(port, `/api/project/runs/experiments/${slug}/artifacts/confusion?test=holdout`);
    expect(test.json()).toEqual({ tp: 10, fp: 3, fn: 2, tn: 40 });
    const report = await httpGet(port, `/api/project/runs/experiments/${fx.pipelineRuns[0]}/artifacts/report`);
    expect(report.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(report.headers["content-security-policy"]).toMatch(/^sandbox;/);
  });

  it("compares experiments and includes their metric histories", async () => {
    const slugs = [fx.rich[0]!, fx.rich[1]!, "run-00050"];
    const res = await httpGet(port, `/api/project/runs/compare?slugs=${slugs.join(",")}`);
    expect(res.status).toBe(200);
    const body = res.json() as { experiments: Array<{ slug: string }>; history: Record<string, Record<string, { steps: number[]; values: number[] }>> };
    expect(body.experiments).toHaveLength(3);
    expect(Object.keys(body.history).sort()).toEqual([fx.rich[0], fx.rich[1]].sort());
    expect(body.history[fx.rich[0]!]!.loss!.steps).toHaveLength(fx.historySteps);
    const missing = await httpGet(port, "/api/project/runs/compare?slugs=nope");
    expect(missing.status).toBe(404);
    expect((missing.json() as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });

  it("shows the repository's versions with expiry and releases, and diffs two versions", async () => {
    const res = await httpGet(port, "/api/repository/models");
    const body = res.json() as {
      names: string[];
      entries: Array<{ name: string; version: number; expiry: string | null }>;
      releases: Array<{ tag: string; artifacts: [string, number][] }>;
    };
    expect(body.names).toEqual(["model", "readme"]);
    expect(body.entries.filter((e) => e.name === "model").map((e) => [e.version, e.expiry])).toEqual([
      [0, "2025-06-01T00:00:00"],
      [1, null],
      [2, null],
    ]);
    expect(body.releases.map((r) => [r.tag, r.artifacts])).toEqual([
      [
        "v1",
        [
          ["model", 0],
          ["readme", 0],
        ],
      ],
      [
        "v2",
        [
          ["model", 2],
          ["readme", 1],
        ],
      ],
    ]);
    const diff = await httpGet(port, "/api/repository/models/diff?name=readme&a=0&b=1");
    expect((diff.json() as { diff: string }).diff).toMatch(/-version one\n\+version two\n\+with more/);
    const artifact = await httpGet(port, "/api/repository/models/artifacts/model?version=1");
    expect(artifact.json()).toEqual({ weights: [1, 2, 4], note: "second" });
    const bad = await httpGet(port, "/api/repository/models/diff?name=readme&a=9");
    expect(bad.status).toBe(404);
  });

  it("announces a change of the project file on the event stream, then serves the new data", async () => {
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
    const writer = await openProject(fx.project, { mode: "a", author: "someone-else" });
    await writer.log("late-arrival", (exp) => exp.logMetric("auc", 0.5));
    await writer.save();
    await next(/event: change\ndata: \{"kind":"project","id":"runs","generation":1\}/);
    controller.abort();
    const rows = (await httpGet(port, "/api/project/runs/experiments")).json() as Rows;
    expect(rows.total).toBe(61);
  });
});

describe("labbook ui server: upstream projects of a project served alone", () => {
  type Deps = { dependencies: Array<{ project: string; link?: string }> };

  it("resolves registry keys with the registry file (the command's --registry)", async () => {
    const server = await startViewer({ location: fx.project, assetsDir: assets, registry: fx.registryFile });
    try {
      const { sources } = (await httpGet(server.port, "/api/sources")).json() as { sources: Array<{ id: string }> };
      expect(sources.map((s) => s.id)).toEqual(["runs", "features"]);
      const detail = (await httpGet(server.port, `/api/project/runs/experiments/${fx.rich[0]}`)).json() as Deps;
      expect(detail.dependencies).toEqual([expect.objectContaining({ project: "features", link: "features" })]);
    } finally {
      await server.close();
    }
    // Without the registry the key cannot be resolved: the dependency is shown as stored, unlinked.
    const alone = await startViewer({ location: fx.project, assetsDir: assets });
    try {
      const detail = (await httpGet(alone.port, `/api/project/runs/experiments/${fx.rich[0]}`)).json() as Deps;
      expect(detail.dependencies[0]).not.toHaveProperty("link");
    } finally {
      await alone.close();
    }
  });

  it("opens upstream projects named by an absolute or a relative path", async () => {
    const up = await openProject(path.join(dir, "paths", "up"), { mode: "w+" });
    await up.log("source", (exp) => exp.logMetric("rows", 10));
    await up.save();
    const down = await openProject(path.join(dir, "paths", "down"), { mode: "w+" });
    await down.log("absolute", (exp) => {
      exp.addDependency(up.get("source"));
    });
    await down.log("relative", (exp) => {
      exp.addDependency(up.get("source"), { key: "../up" });
    });
    await down.save();
    const server = await startViewer({ location: path.join(dir, "paths", "down"), assetsDir: assets });
    try {
      const links = [];
      for (const e of down.experiments) {
        const detail = (await httpGet(server.port, `/api/project/down/experiments/${e.slug}`)).json() as Deps;
        links.push(detail.dependencies.map((d) => [d.project, d.link]));
      }
      const absolute = path.join(dir, "paths", "up", "project.json");
      expect(links).toEqual([[[absolute, absolute]], [["../up", "../up"]]]);
      const upstream = await httpGet(server.port, `/api/project/${encodeURIComponent("../up")}/experiments/${up.experiments[0]!.slug}`);
      expect(upstream.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe("labbook ui server: security", () => {
  it("sets a strict CSP and other protective headers on the page", async () => {
    const res = await httpGet(port, "/");
    expect(res.status).toBe(200);
    expect(res.headers["content-security-policy"]).toBe(PAGE_CSP);
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).not.toContain("unsafe");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["x-frame-options"]).toBe("DENY");
  });

  it("names the sources and preloads the first view's data in index.html (no inline script)", async () => {
    const res = await httpGet(port, "/");
    const meta = /<meta name="labbook-sources" content="([^"]+)"/.exec(res.text)?.[1];
    expect(meta, res.text).toBeDefined();
    const sources = JSON.parse(
      (meta as string)
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, "<")
        .replace(/&amp;/g, "&"),
    ) as Array<{ id: string }>;
    expect(sources.map((s) => s.id)).toEqual(["runs", "features", "models"]);
    expect(res.text).toContain('<link rel="preload" href="/api/project/runs/experiments" as="fetch" crossorigin="anonymous" />');
    expect(res.text).not.toMatch(/<script>/);
  });

  it("refuses foreign Host headers (DNS rebinding) and requests without one", async () => {
    for (const host of ["evil.example", `evil.example:${port}`, "127.0.0.1:1", `127.0.0.1.nip.io:${port}`]) {
      const res = await httpGet(port, "/api/sources", { host });
      expect(res.status, host).toBe(403);
      expect((res.json() as { error: { code: string } }).error.code).toBe("FORBIDDEN_HOST");
    }
    // Node's HTTP parser already refuses an HTTP/1.1 request without Host (400) before the viewer sees it.
    expect((await httpGet(port, "/api/sources", { host: null })).status).toBe(400);
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `127.0.0.1:${port}`])
      expect((await httpGet(port, "/api/sources", { host })).status, host).toBe(200);
  });

  it("refuses path traversal and files no index names", async () => {
    const slug = fx.rich[0]!;
    for (const raw of [
      "/../secret.txt",
      "/..%2Fsecret.txt",
      "/assets/../../secret.txt",
      "/assets/..%2F..%2Fsecret.txt",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/index.html/../../package.json",
      "/package.json",
      "/assets/missing.js",
      `/api/project/runs/experiments/${slug}/artifacts/..%2F..%2Fsecret.txt`,
      `/api/project/runs/experiments/${slug}/artifacts/plot.png`,
      `/api/project/runs/experiments/..%2F..%2Fsecret.txt/artifacts/plot`,
      `/api/project/runs/experiments/${slug}/artifacts/confusion?test=..%2F..`,
      "/api/repository/models/artifacts/..%2Fruns%2Fproject.json",
      "/api/project/..%2F..%2Fsecret/experiments",
    ]) {
      const res = await httpGet(port, raw);
      expect(res.status, raw).toBe(404);
      expect(res.text, raw).not.toContain("top secret");
    }
    expect((await httpGet(port, "/%E0%A4%A")).status).toBe(400);
  });

  it("refuses an index entry whose file name leaves the experiment folder", async () => {
    const evil = path.join(dir, "evil");
    await mkdir(evil, { recursive: true });
    const project = await openProject(evil, { mode: "w+" });
    await project.log("sneaky", (exp) => exp.logArtifact("note", "hello", { handler: "text" }));
    await project.save();
    const file = path.join(evil, "project.json");
    // A hand-edited (or hostile) index: the fname climbs out to secret.txt.
    writeFileSync(file, readFileSync(file, "utf8").replace(/"fname": "[^"]+"/, '"fname": "../../secret.txt"'));
    const server = await startViewer({ sources: await openSources(evil), assetsDir: assets });
    try {
      const res = await httpGet(server.port, `/api/project/evil/experiments/${project.experiments[0]!.slug}/artifacts/note`);
      expect(res.status).toBe(400);
      expect((res.json() as { error: { code: string } }).error.code).toBe("UNSAFE_PATH");
      expect(res.text).not.toContain("top secret");
    } finally {
      await server.close();
    }
  });

  it("is read-only: other methods get 405", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await httpGet(port, "/api/project/runs/experiments", { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe("GET, HEAD");
    }
  });

  it("binds loopback only unless allowRemote is given", async () => {
    for (const host of ["0.0.0.0", "::", "192.0.2.10"]) {
      await expect(startViewer({ location: fx.project, assetsDir: assets, host })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining("allowRemote"),
      });
    }
    const local = await startViewer({ location: fx.project, assetsDir: assets, host: "127.0.0.2" });
    expect(local.url).toBe(`http://127.0.0.2:${local.port}/`);
    await local.close();
  });
});
