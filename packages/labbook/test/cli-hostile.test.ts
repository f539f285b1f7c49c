/**
 * The built `labbook` command against hostile input and hostile places (issue 13): FIFOs and
 * devices where an index should be, silent S3 endpoints, bucket names that are paths, planted
 * symlinks beside --out, deep nesting, huge filters, and terminal control characters. Every run has
 * a hard timeout, so a hang fails the test instead of stalling the suite, and no case may print a
 * stack trace.
 */
import { spawn, spawnSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { findMoto, type MotoServer, startMoto } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliver } from "../src/cli/artifact.js";
import { cliPath, ensureBuilt, packageDir } from "./cli-helpers.js";

const ESC = "\u001b";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** The built command with a hard timeout (SIGKILL), so a hang is a failure, not a stuck suite. */
function run(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Run {
  const started = Date.now();
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: packageDir,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...options.env },
    timeout: options.timeoutMs ?? 30_000,
    killSignal: "SIGKILL",
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started, timedOut: result.signal === "SIGKILL" };
}

/** Like run, without blocking this process (for tests whose server lives in this process). */
function runAsync(args: string[], env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: packageDir,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** No stack trace without --debug, whatever went wrong. */
function expectNoStack(r: Run): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain("Maximum call stack");
}

function mkfifo(file: string): void {
  const made = spawnSync("mkfifo", [file]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
}

type Record_ = Record<string, unknown>;
function experiment(name: string, slug: string, extra: Record_ = {}): Record_ {
  return {
    artifacts: [],
    author: "ada",
    created_at: "2024-01-01T00:00:00",
    dependencies: [],
    last_updated: "2024-01-01T00:00:00",
    last_updated_by: "ada",
    metrics: {},
    name,
    parameters: {},
    short_slug: slug,
    slug: `${slug}-20240101000000`,
    tags: [],
    tests: [],
    ...extra,
  };
}

async function writeProject(dir: string, experiments: Record_[] | string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "project.json"), typeof experiments === "string" ? experiments : JSON.stringify(experiments, null, 4));
  return dir;
}

let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = await mkdtemp(path.join(tmpdir(), "labbook-cli-hostile-"));
}, 600_000);
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("index files that are not regular files", () => {
  it("ls on a project.json that is a FIFO fails at once with INVALID_FORMAT", async () => {
    const dir = path.join(tmp, "fifo");
    await mkdir(dir);
    mkfifo(path.join(dir, "project.json"));
    const r = run(["ls", dir]);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FIFO \(named pipe\), not a regular file.*\[INVALID_FORMAT\]/);
    expectNoStack(r);
  });

  it("ls on a project.json linked to /dev/zero fails at once instead of growing without bound", async () => {
    const dir = path.join(tmp, "zero");
    await mkdir(dir);
    await symlink("/dev/zero", path.join(dir, "project.json"));
    const r = run(["ls", dir]);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/character device, not a regular file.*\[INVALID_FORMAT\]/);
  });

  it("deps marks a dependency on a FIFO or a plain file missing and lists the rest (with and without --registry)", async () => {
    const root = path.join(tmp, "deps");
    await writeProject(path.join(root, "upstream"), [experiment("up", "up")]);
    await mkdir(path.join(root, "piped"));
    mkfifo(path.join(root, "piped", "project.json"));
    await writeFile(path.join(root, "plain.txt"), "just text");
    await writeProject(path.join(root, "down"), [
      experiment("train", "train", { dependencies: ["../upstream|up-20240101000000", "../piped|up-20240101000000", "../plain.txt|up-20240101000000"] }),
    ]);
    const registry = path.join(root, "labbook.registry.json");
    await writeFile(registry, JSON.stringify({ version: 1, projects: { upstream: "upstream" }, repositories: {} }));
    // Without a registry a dependency by path resolves too (as in lazyscribe): the pipe and the plain file are missing, neither fails the listing.
    const bare = run(["deps", path.join(root, "down"), "--json"]);
    expect(bare.code, bare.stderr).toBe(0);
    const bareGraph = JSON.parse(bare.stdout) as { edges: unknown[]; missing: { dependency: string }[] };
    expect(bareGraph.edges).toHaveLength(1);
    expect(bareGraph.missing.map((m) => m.dependency).sort()).toEqual(["../piped|up-20240101000000", "../plain.txt|up-20240101000000"]);
    for (const extra of [["--registry", registry]]) {
      const r = run([...extra, "deps", path.join(root, "down"), "--json"]);
      expect(r.timedOut, extra.join(" ")).toBe(false);
      expect(r.code, r.stderr).toBe(0);
      const graph = JSON.parse(r.stdout) as { edges: unknown[]; missing: { dependency: string; message: string }[] };
      expect(graph.edges).toHaveLength(1);
      expect(graph.missing.map((m) => m.dependency).sort()).toEqual(["../piped|up-20240101000000", "../plain.txt|up-20240101000000"]);
      expect(graph.missing.find((m) => m.dependency.startsWith("../piped"))?.message).toMatch(/FIFO/);
      const text = run([...extra, "deps", path.join(root, "down")]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain("2 dependency(ies) did not resolve.");
    }
  });

  it("--registry naming a FIFO fails at once", async () => {
    const fifo = path.join(tmp, "registry-fifo.json");
    mkfifo(fifo);
    const r = run(["--registry", fifo, "ls", path.join(tmp, "nowhere")]);
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a regular file.*\[INVALID_FORMAT\]/);
  });
});

describe("--out", () => {
  async function artifactProject(): Promise<string> {
    const dir = path.join(tmp, `out-${Math.random().toString(36).slice(2)}`);
    const slug = "run-20240101000000";
    await mkdir(path.join(dir, slug), { recursive: true });
    await writeFile(path.join(dir, slug, "data.txt"), "artifact bytes");
    const entry = { created_at: "2024-01-01T00:00:00", expiry: null, fname: "data.txt", handler: "text", name: "data", version: 0 };
    await writeProject(dir, [experiment("run", "run", { artifacts: [entry] })]);
    return dir;
  }

  it("writes through an exclusive temp file: planted symlinks at the old predictable names and at the target are not followed", async () => {
    const dir = await mkdtemp(path.join(tmp, "deliver-"));
    const victim = path.join(tmp, "victim.txt");
    await writeFile(victim, "precious");
    const target = path.join(dir, "model.bin");
    // The old code opened `<target>.<pid>.partial` following symlinks; plant that name (and the target itself).
    await symlink(victim, `${target}.${process.pid}.partial`);
    await symlink(victim, target);
    const source = (async function* () {
      yield new TextEncoder().encode("downloaded");
    })();
    await deliver(source, { size: 10, label: "model", out: target });
    expect(await readFile(victim, "utf8")).toBe("precious");
    expect((await lstat(target)).isFile()).toBe(true);
    expect(await readFile(target, "utf8")).toBe("downloaded");
    expect(await readlink(`${target}.${process.pid}.partial`)).toBe(victim);
    // Nothing else is left behind: the temp file was renamed.
    expect((await readdir(dir)).sort()).toEqual(["model.bin", `model.bin.${process.pid}.partial`]);
  });

  it("repo get --out replaces a symlink planted at the target instead of writing through it", async () => {
    const repo = path.join(tmp, `repo-${Math.random().toString(36).slice(2)}`);
    await mkdir(path.join(repo, "model"), { recursive: true });
    await writeFile(path.join(repo, "model", "model-20240101000000.json"), '{"w": 1}');
    const entry = { created_at: "2024-01-01T00:00:00", expiry: null, fname: "model-20240101000000.json", handler: "json", name: "model", version: 0 };
    await writeFile(path.join(repo, "repository.json"), JSON.stringify([entry]));
    const victim = path.join(tmp, "repo-victim.txt");
    await writeFile(victim, "precious");
    const out = path.join(tmp, `repo-out-${Math.random().toString(36).slice(2)}.json`);
    await symlink(victim, out);
    const r = run(["repo", "get", repo, "model", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(victim, "utf8")).toBe("precious");
    expect((await lstat(out)).isFile()).toBe(true);
    expect(await readFile(out, "utf8")).toBe('{"w": 1}');
    const folder = run(["repo", "get", repo, "model", "--out", tmp]);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toMatch(/is a folder; name a file.*\[INVALID_ARGUMENT\]/);
  });

  it("artifact get --out to a folder or into a missing folder says what to do, with a code", async () => {
    const dir = await artifactProject();
    const folder = run(["artifact", "get", dir, "run", "data", "--out", tmp]);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toMatch(/--out .* is a folder; name a file.*\[INVALID_ARGUMENT\]/);
    const missing = run(["artifact", "get", dir, "run", "data", "--out", path.join(tmp, "no", "such", "file.txt")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/the folder .*no\/such does not exist; create it first.*\[INVALID_ARGUMENT\]/);
    expectNoStack(missing);
    const ok = run(["artifact", "get", dir, "run", "data", "--out", path.join(dir, "copy.txt")]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readFile(path.join(dir, "copy.txt"), "utf8")).toBe("artifact bytes");
  });
});

describe("deep nesting and huge filters", () => {
  const deep = (depth: number) => JSON.parse(`${'{"a": '.repeat(depth)}1${"}".repeat(depth)}`) as unknown;

  it("parameters nested 5000 deep: ls, show and compare fail with INVALID_FORMAT, no stack overflow", async () => {
    const text = `[${[experiment("a", "a"), experiment("b", "b")].map((e) => JSON.stringify(e).replace('"parameters":{}', `"parameters":{"p":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`)).join(",")}]`;
    const dir = await writeProject(path.join(tmp, "deep5000"), text);
    for (const args of [
      ["ls", dir],
      ["show", dir, "a"],
      ["compare", dir, "a", "b"],
    ]) {
      const r = run(args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toMatch(/more than 1000 levels deep.*\[INVALID_FORMAT\]/);
      expectNoStack(r);
    }
  });

  it("parameters nested 990 deep (what Python reads) render in ls, show and compare", async () => {
    const dir = await writeProject(path.join(tmp, "deep990"), [
      experiment("a", "a", { parameters: { p: deep(990) } }),
      experiment("b", "b", { parameters: { p: 1 } }),
    ]);
    for (const args of [
      ["ls", dir],
      ["show", dir, "a"],
      ["compare", dir, "a", "b"],
      ["ls", dir, "--json"],
    ]) {
      const r = run(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
    }
  });

  it("a filter with 5000 parentheses or 10 000 terms is a usage error (exit 2)", async () => {
    const dir = await writeProject(path.join(tmp, "filters"), [experiment("a", "a", { metrics: { auc: 0.5 } })]);
    const parens = `${"(".repeat(5000)}metrics.auc > 0${")".repeat(5000)}`;
    // Short terms: one argument may hold at most 128 KiB on Linux.
    const terms = Array.from({ length: 10_000 }, () => "name=a").join(" or ");
    const nots = `${"not ".repeat(5000)}metrics.auc > 0`;
    for (const [filter, message] of [
      [parens, /nest more than 100 levels deep/],
      [nots, /nest more than 100 levels deep/],
      [terms, /more than 1000 comparisons/],
    ] as const) {
      const r = run(["ls", dir, "--filter", filter]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      // The message quotes the stretch around the error, not the whole expression.
      expect(r.stderr.length).toBeLessThan(1000);
      expectNoStack(r);
    }
    const fine = run(["ls", dir, "--filter", `${"(".repeat(50)}metrics.auc > 0${")".repeat(50)}`, "--json"]);
    expect(fine.code).toBe(0);
    expect(JSON.parse(fine.stdout)).toHaveLength(1);
  });

  it("a number of 120 000 digits in a filter is scanned in linear time", async () => {
    const dir = await writeProject(path.join(tmp, "digits"), [experiment("a", "a", { metrics: { auc: 0.5 } })]);
    for (const literal of ["1".repeat(120_000), `${"1".repeat(120_000)}x`, `0.${"5".repeat(120_000)}e`]) {
      const r = run(["ls", dir, "--filter", `metrics.auc < ${literal}`, "--json"], { timeoutMs: 20_000 });
      expect(r.timedOut).toBe(false);
      expectNoStack(r);
      // Node alone starts in about 0.3 s; the quadratic scanner took 40 s here.
      expect(r.ms).toBeLessThan(10_000);
    }
  });
});

/** Run the command on a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
function onTerminal(args: string[]): Run {
  const command = [process.execPath, cliPath, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const started = Date.now();
  const result = spawnSync("script", ["-qefc", command, "/dev/null"], {
    cwd: packageDir,
    env: { ...process.env, COLUMNS: "200", TERM: "xterm" },
    timeout: 30_000,
    killSignal: "SIGKILL",
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started, timedOut: result.signal === "SIGKILL" };
}

describe("terminal control characters in names, tags and parameters", () => {
  const osc52 = `${ESC}]52;c;ZWNobyBwd25lZA==\u0007`;
  let dir: string;
  beforeAll(async () => {
    dir = await writeProject(path.join(tmp, "controls"), [
      experiment(`evil${ESC}[2J name`, "evil", { tags: [`tag\r${ESC}[31mred`], parameters: { clip: osc52 }, metrics: { auc: 0.5 } }),
      experiment("plain", "plain", { parameters: { clip: "x" }, metrics: { auc: 0.6 } }),
    ]);
  });

  it("ls, show and compare escape them on a terminal", () => {
    for (const args of [
      ["ls", dir],
      ["show", dir, "evil"],
      ["compare", dir, "evil", "plain"],
    ]) {
      const r = onTerminal(args);
      expect(r.timedOut).toBe(false);
      expect(r.code, `${args[0]}: ${r.stdout}`).toBe(0);
      expect(r.stdout).not.toContain(ESC);
      expect(r.stdout).not.toContain("\u0007");
      // The terminal turns each "\n" into "\r\n"; any other CR came from the data.
      expect(r.stdout.replaceAll("\r\n", "\n")).not.toContain("\r");
      expect(r.stdout).toContain("\\x1b]52;c;ZWNobyBwd25lZA==\\x07");
      if (args[0] !== "compare") expect(r.stdout).toContain("tag\\r\\x1b[31mred");
      if (args[0] === "show") expect(r.stdout).toContain("evil\\x1b[2J name");
    }
  });

  it("an error message quoting a name is escaped on a terminal too", () => {
    const r = onTerminal(["show", dir, `missing${ESC}]52;c;AAAA\u0007`]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain(ESC);
    expect(r.stdout).toContain("missing\\x1b]52;c;AAAA\\x07");
  });

  it("--json output is unaffected, on a terminal or not", () => {
    const piped = run(["show", dir, "evil", "--json"]);
    const tty = onTerminal(["show", dir, "evil", "--json"]);
    expect(JSON.parse(piped.stdout).parameters.clip).toBe(osc52);
    expect(JSON.parse(tty.stdout.replaceAll("\r\n", "\n")).parameters.clip).toBe(osc52);
  });
});

const moto = findMoto();

describe("s3:// locations", () => {
  it("an endpoint that accepts and never answers: ls fails with a STORAGE error naming it, bounded by LABBOOK_S3_TIMEOUT", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      // spawnSync would block this process's event loop, and with it the silent server: run the command asynchronously.
      const r = await runAsync(["ls", "s3://lab/runs"], {
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ACCESS_KEY_ID: "k",
        AWS_SECRET_ACCESS_KEY: "s",
        AWS_REGION: "us-east-1",
        AWS_CONFIG_FILE: path.join(tmp, "no-config"),
        AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, "no-credentials"),
        LABBOOK_S3_TIMEOUT: "0.3",
      });
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${endpoint} did not answer in time`);
      expect(r.stderr).toContain("[STORAGE]");
      expectNoStack(r);
      expect(r.ms).toBeLessThan(20_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

describe.skipIf(!moto)("s3:// locations against moto", () => {
  let server: MotoServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    const started = await startMoto({ buckets: ["victim", "lab"] });
    if (!started) throw new Error("moto_server is missing: run bash tooling/ci/setup.sh");
    server = started;
    env = {
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_REGION: server.region,
      AWS_CONFIG_FILE: path.join(tmp, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, "no-credentials"),
    };
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("s3://../victim/project.json is refused as a bucket name and writes nothing into victim", async () => {
    const a = await writeProject(path.join(tmp, "s3-a"), [experiment("a", "a")]);
    const b = await writeProject(path.join(tmp, "s3-b"), [experiment("b", "b")]);
    for (const args of [
      ["merge", a, b, "--into", "s3://../victim/project.json"],
      ["ls", "s3://../victim/project.json"],
    ]) {
      const r = run(args, { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/s3:\/\/\.\.\/victim\/project\.json.*"\.\." is not a valid S3 bucket name.*\[INVALID_ARGUMENT\]/);
      expectNoStack(r);
    }
    const listing = await fetch(`${server.endpoint}/victim?list-type=2`).then((res) => res.text());
    expect(listing).not.toContain("<Key>");
  });

  it("wrong credentials are reported as rejected credentials at the endpoint", async () => {
    const strict = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: "0" } });
    if (!strict) throw new Error("moto did not start");
    try {
      const r = await runAsync(["ls", "s3://lab/runs"], { ...env, AWS_ENDPOINT_URL_S3: strict.endpoint, AWS_ACCESS_KEY_ID: "AKIAWRONG" });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${strict.endpoint} rejected the credentials (InvalidAccessKeyId)`);
      expect(r.stderr).not.toContain("Unknown");
      expectNoStack(r);
    } finally {
      await strict.stop();
    }
  });

  it("a missing bucket behind a custom endpoint names that endpoint, not AWS S3", () => {
    const r = run(["ls", "s3://absent-bucket/runs"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`bucket "absent-bucket" does not exist at ${server.endpoint}`);
    expect(r.stderr).not.toContain("AWS S3");
    expectNoStack(r);
  });
});
