/**
 * Hostile places on local disk: index files that are FIFOs or links to devices, and symlinks that
 * would carry writes out of the project. Reads that could block run in a child process with a hard
 * timeout, so a regression fails the test instead of hanging the run.
 */
import { spawnSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isLabbookError, type LabbookError, Project } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsx = pathToFileURL(createRequire(path.join(packageDir, "package.json")).resolve("tsx")).href;

let parent: string;
let root: string;

beforeEach(async () => {
  parent = await mkdtemp(path.join(tmpdir(), "labbook-hostile-local-"));
  root = path.join(parent, "project");
  await mkdir(root);
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<LabbookError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isLabbookError(error)) throw new Error(`expected a LabbookError, got ${String(error)}`);
  return error;
}

function mkfifo(file: string): void {
  const made = spawnSync("mkfifo", [file]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
}

/**
 * Run `body` (an async function body using LocalStorage and Project) in a child process that is
 * killed after 20 s; it prints one JSON line with the error code and message, and its peak memory.
 */
function isolated(
  body: string,
  options: { readOnlyMount?: string } = {},
): { result: { code?: string; message?: string; ok?: boolean; rssMb: number }; timedOut: boolean } {
  const script = `
import { LocalStorage } from "@labbook/storage-local";
import { Project } from "@labbook/core";
let out;
try { await (async () => { ${body} })(); out = { ok: true }; } catch (e) { out = { code: e.code, message: e.message }; }
out.rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(out));
process.exit(0);`;
  const node = [process.execPath, "--import", tsx, "--conditions=@labbook/source", "--no-warnings", "--input-type=module", "-e", script];
  // A read-only mount in a private mount namespace (unshare -rm works as root and as a plain user): nothing leaks out.
  const [command, ...args] = options.readOnlyMount
    ? ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o ro tmpfs "$0" && exec "$@"', options.readOnlyMount, ...node]
    : node;
  const child = spawnSync(command as string, args, {
    cwd: packageDir,
    timeout: 20_000,
    killSignal: "SIGKILL",
    encoding: "utf8",
    env: { ...process.env, HOSTILE_ROOT: root },
  });
  if (child.signal === "SIGKILL") return { result: { rssMb: 0 }, timedOut: true };
  if (child.status !== 0) throw new Error(`child failed (${child.status}): ${child.stderr}`);
  return { result: JSON.parse(child.stdout.trim().split("\n").at(-1) as string), timedOut: false };
}

describe("index reads refuse files that are not regular files", () => {
  it("a project.json that is a FIFO fails typed at once instead of blocking", async () => {
    mkfifo(path.join(root, "project.json"));
    const { result, timedOut } = isolated(`await Project.open("project.json", { storage: new LocalStorage(process.env.HOSTILE_ROOT), mode: "r" });`);
    expect(timedOut).toBe(false);
    expect(result.code).toBe("INVALID_FORMAT");
    expect(result.message).toContain(path.join(root, "project.json"));
    expect(result.message).toMatch(/FIFO \(named pipe\), not a regular file/);
  });

  it("every read method of the adapter refuses a FIFO (read, readVersioned, readStream, copy)", async () => {
    mkfifo(path.join(root, "pipe.json"));
    const { result, timedOut } = isolated(`
      const s = new LocalStorage(process.env.HOSTILE_ROOT);
      const codes = [];
      for (const f of [() => s.read("pipe.json"), () => s.readVersioned("pipe.json"), () => s.readStream("pipe.json"), () => s.copy("pipe.json", "copy.json")]) {
        try { await f(); codes.push("none"); } catch (e) { codes.push(e.code); }
      }
      throw Object.assign(new Error(codes.join(",")), { code: "LIST" });`);
    expect(timedOut).toBe(false);
    expect(result.message).toBe("INVALID_FORMAT,INVALID_FORMAT,INVALID_FORMAT,INVALID_FORMAT");
    expect(await readdir(root)).toEqual(["pipe.json"]);
  });

  it("a project.json linked to /dev/zero fails typed without reading it (memory stays small)", async () => {
    await symlink("/dev/zero", path.join(root, "project.json"));
    const { result, timedOut } = isolated(`await Project.open("project.json", { storage: new LocalStorage(process.env.HOSTILE_ROOT), mode: "r" });`);
    expect(timedOut).toBe(false);
    expect(result.code).toBe("INVALID_FORMAT");
    expect(result.message).toMatch(/character device, not a regular file/);
    expect(result.rssMb).toBeLessThan(400);
  });

  it("a project opened for writing refuses a FIFO index too, and leaves it in place", async () => {
    mkfifo(path.join(root, "project.json"));
    const { result, timedOut } = isolated(`await Project.open("project.json", { storage: new LocalStorage(process.env.HOSTILE_ROOT), mode: "a" });`);
    expect(timedOut).toBe(false);
    expect(result.code).toBe("INVALID_FORMAT");
    expect((await lstat(path.join(root, "project.json"))).isFIFO()).toBe(true);
  });

  it("maxBytes refuses a bigger file before reading it; a file within the limit reads whole", async () => {
    const storage = new LocalStorage(root);
    await writeFile(path.join(root, "big.json"), "x".repeat(5000));
    const error = await rejection(storage.readVersioned("big.json", { maxBytes: 4096 }));
    expect(error.code).toBe("INVALID_FORMAT");
    expect(error.message).toContain("4096-byte limit");
    expect(error.path).toBe(path.join(root, "big.json"));
    expect((await rejection(storage.read("big.json", { maxBytes: 10 }))).code).toBe("INVALID_FORMAT");
    expect((await rejection(storage.readStream("big.json", { maxBytes: 10 }))).code).toBe("INVALID_FORMAT");
    expect((await storage.readVersioned("big.json", { maxBytes: 5000 })).data.byteLength).toBe(5000);
  });
});

describe("a read-only mount", () => {
  it("is reported as read-only, not as a missing file, both for a new folder and an existing one", async () => {
    const mount = path.join(root, "ro");
    await mkdir(mount);
    const { result, timedOut } = isolated(
      `
      const codes = [];
      const mount = process.env.HOSTILE_ROOT + "/ro";
      const project = await Project.open("project.json", { storage: new LocalStorage(mount), mode: "w" });
      await project.log("run", (e) => { e.logArtifact("weights", { a: 1 }, { handler: "json" }); });
      for (const f of [() => project.save(), () => new LocalStorage(mount).write("index.json", "[]")]) {
        try { await f(); codes.push("none"); } catch (e) { codes.push(e.code + ": " + e.message); }
      }
      throw Object.assign(new Error(codes.join(" || ")), { code: "LIST" });`,
      { readOnlyMount: mount },
    );
    expect(timedOut).toBe(false);
    const [save, write] = (result.message as string).split(" || ");
    expect(save).toMatch(/^(STORAGE|SAVE_FAILED): .*read-only/);
    expect(save).not.toMatch(/No file at/);
    expect(write).toMatch(/^STORAGE: Could not write .*index\.json: the file system is mounted read-only \(EROFS\)/);
  });
});

describe("symlinks inside a project", () => {
  const fixed = () => new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

  it("refuses (UNSAFE_PATH) to write artifacts into an experiment folder linked outside the project, and writes nothing there", async () => {
    const outside = path.join(parent, "outside");
    await mkdir(outside);
    // The slug is known in advance (fixed clock), so the folder can be planted before the save.
    await symlink(outside, path.join(root, "run-20240102030405"));
    const project = await Project.open("project.json", { storage: new LocalStorage(root), mode: "w", clock: fixed });
    await project.log("run", (e) => {
      e.logArtifact("weights", { a: 1 }, { handler: "json" });
    });
    const error = await rejection(project.save());
    expect(error.code).toBe("UNSAFE_PATH");
    expect(error.message).toMatch(/symbolic link leads it to .*outside/);
    expect(await readdir(outside)).toEqual([]);
    await expect(readFile(path.join(root, "project.json"))).rejects.toThrow(/ENOENT/);
  });

  it("follows a link that stays inside the project root", async () => {
    await mkdir(path.join(root, "real-folder"));
    await symlink(path.join(root, "real-folder"), path.join(root, "run-20240102030405"));
    const project = await Project.open("project.json", { storage: new LocalStorage(root), mode: "w", clock: fixed });
    await project.log("run", (e) => {
      e.logArtifact("weights", { a: 1 }, { handler: "json" });
    });
    await project.save();
    expect(await readdir(path.join(root, "real-folder"))).toHaveLength(1);
  });

  it("delete refuses to reach through a linked folder outside the root", async () => {
    const outside = path.join(parent, "outside");
    await mkdir(outside);
    await writeFile(path.join(outside, "keep.txt"), "keep");
    await symlink(outside, path.join(root, "linked"));
    const error = await rejection(new LocalStorage(root).delete("linked/keep.txt"));
    expect(error.code).toBe("UNSAFE_PATH");
    expect(await readFile(path.join(outside, "keep.txt"), "utf8")).toBe("keep");
  });

  it("saves through a symlinked project.json to its target, keeping the link", async () => {
    const elsewhere = path.join(parent, "shared");
    await mkdir(elsewhere);
    const first = await Project.open("project.json", { storage: new LocalStorage(elsewhere), mode: "w", clock: fixed });
    await first.log("first", () => {});
    await first.save();
    await symlink(path.join(elsewhere, "project.json"), path.join(root, "project.json"));

    const project = await Project.open("project.json", { storage: new LocalStorage(root), mode: "a", clock: () => new Date(Date.UTC(2024, 0, 3)) });
    await project.log("second", () => {});
    await project.save();

    expect((await lstat(path.join(root, "project.json"))).isSymbolicLink()).toBe(true);
    expect(await readlink(path.join(root, "project.json"))).toBe(path.join(elsewhere, "project.json"));
    const names = (JSON.parse(await readFile(path.join(elsewhere, "project.json"), "utf8")) as { name: string }[]).map((e) => e.name);
    expect(names).toEqual(["first", "second"]);
  });
});
