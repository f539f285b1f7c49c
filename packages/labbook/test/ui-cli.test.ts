import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, ensureBuilt, labbook } from "./cli-helpers.js";
import { makeViewerFixture, type ViewerFixture } from "./ui-fixture.js";
import { httpGet } from "./ui-http.js";

let dir: string;
let fx: ViewerFixture;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), "labbook-ui-cli-"));
  fx = await makeViewerFixture(path.join(dir, "ws"), { experiments: 20, rich: 2 });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

/** Start `labbook ui ...args` and wait for the address it prints (or its exit). */
function startUi(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [cliPath, "ui", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (c) => {
      stdout += c;
      const match = /open (http:\/\/\S+) /.exec(stdout);
      if (match) resolve({ child, url: match[1] as string, stderr: () => stderr });
    });
    child.on("exit", (code) => reject(new Error(`labbook ui exited with ${code} before printing its address:\n${stdout}\n${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

describe("labbook ui (the command)", () => {
  it("serves the shipped page on 127.0.0.1, prints the address and stops on SIGINT", async () => {
    const port = await freePort();
    const { child, url } = await startUi([fx.project, "--port", String(port)]);
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    const page = await httpGet(port, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toMatch(/script-src 'self'/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script, page.text).toBeDefined();
    const js = await httpGet(port, script as string);
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    const rows = (await httpGet(port, "/api/project/runs/experiments")).json() as { total: number };
    expect(rows.total).toBe(20);
    child.kill("SIGINT");
    expect(await exited(child)).toBe(0);
  });

  it("refuses a non-loopback address without --allow-remote (exit 2, nothing served)", async () => {
    const port = await freePort();
    for (const host of ["0.0.0.0", "::"]) {
      const result = labbook(["ui", fx.project, "--host", host, "--port", String(port)]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--allow-remote");
    }
    await expect(httpGet(port, "/")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("serves a non-loopback address with --allow-remote, after a warning, still checking Host", async () => {
    const port = await freePort();
    const { child, url, stderr } = await startUi([fx.registryFile, "--host", "0.0.0.0", "--allow-remote", "--port", String(port)]);
    expect(stderr()).toMatch(/WARNING: serving on 0\.0\.0\.0/);
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    expect((await httpGet(port, "/api/sources")).status).toBe(200);
    expect((await httpGet(port, "/api/sources", { host: `attacker.example:${port}` })).status).toBe(403);
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
  });

  it("--open starts the desktop's browser (xdg-open) on the printed address", async () => {
    const bin = path.join(dir, "fake-bin");
    const opened = path.join(dir, "opened.txt");
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s' "$1" > "${opened}"\n`, { mode: 0o755 });
    const { child, url } = await startUi([fx.project, "--open"], { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` });
    await expect.poll(() => readFile(opened, "utf8").catch(() => ""), { timeout: 30_000 }).toBe(url);
    child.kill("SIGINT");
    expect(await exited(child)).toBe(0);
  });

  it("says what is wrong with a location or a port", () => {
    const missing = labbook(["ui", path.join(dir, "nothing-here")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Nothing at .*nothing-here.*\[NOT_FOUND\]/);
    const empty = labbook(["ui", dir]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/holds no project\.json, repository\.json or labbook\.registry\.json/);
    const badPort = labbook(["ui", fx.project, "--port", "http"]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("--port takes a port number");
  });
});
