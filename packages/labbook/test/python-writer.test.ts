/**
 * A Python lazyscribe writer on the same project rewrites it without coordination and erases what
 * labbook committed meanwhile. labbook cannot prevent that, but its next save notices: it lists the
 * erased experiments in `lost`, warns, and writes them back. Real lazyscribe 2.2 from the venv.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { findPython } from "@labbook-internal/testing";
import { afterEach, describe, expect, it } from "vitest";
import { openProject, parsePyJson } from "../src/index.js";

const SCRIPT = fileURLToPath(new URL("./python/late_writer.py", import.meta.url));
const LOCKED = fileURLToPath(new URL("./python/locked_writer.py", import.meta.url));
const python = findPython();
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Start the Python writer; it has loaded the project once `ready` resolves, and saves when `go()` is called. */
async function pythonWriter(file: string, name: string): Promise<{ go: () => Promise<void> }> {
  const child = spawn(python as string, [SCRIPT, file, name], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (expected: string) => {
    const { value } = await lines.next();
    if (value !== expected) throw new Error(`python writer said ${String(value)}, expected ${expected}`);
  };
  await next("ready");
  return {
    go: async () => {
      child.stdin.write("go\n");
      await next("saved");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

describe.runIf(python)("a Python lazyscribe writer on the same project", () => {
  it("erases labbook's experiments; labbook's next save lists them as lost, warns and writes them back", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "labbook-python-writer-"));
    dirs.push(dir);
    const file = path.join(dir, "project.json");
    const project = await openProject(file, { author: "ada" });
    await project.log("first", (e) => e.logMetric("m", 1));
    await project.save();
    const py = await pythonWriter(file, "from python");
    for (const name of ["second", "third"]) {
      await project.log(name, (e) => e.logMetric("m", 2));
      expect((await project.save()).lost).toEqual([]);
    }
    await py.go();
    const erased = parsePyJson(await readFile(file, "utf8")) as Array<{ name: string }>;
    expect(erased.map((r) => r.name)).toEqual(["first", "from python"]);

    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      await project.log("fourth", (e) => e.logMetric("m", 4));
      const result = await project.save();
      expect(result.lost.sort()).toEqual(
        project.experiments
          .filter((e) => e.name === "second" || e.name === "third")
          .map((e) => e.slug)
          .sort(),
      );
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((w) => w.name)).toEqual(["LabbookWarning"]);
    expect(warnings[0]?.message).toContain("second");
    expect(warnings[0]?.message).toContain("docs/interop.md");
    const reopened = await openProject(file, { mode: "r" });
    expect(reopened.experiments.map((e) => e.name).sort()).toEqual(["first", "fourth", "from python", "second", "third"]);
  });

  it("loses nothing when the Python writer saves under labbook's lock (the docs/interop.md recipe)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "labbook-python-locked-"));
    dirs.push(dir);
    const file = path.join(dir, "project.json");
    const project = await openProject(file, { author: "ada" });
    const pythonRuns = promisify(execFile)(python as string, [LOCKED, file, "15"]);
    let pythonDone = false;
    void pythonRuns.then(() => {
      pythonDone = true;
    });
    const lost: string[] = [];
    // labbook keeps saving for as long as Python does, so their saves interleave.
    let n = 0;
    for (; n < 10 || !pythonDone; n++) {
      await project.log(`labbook ${n}`, (e) => e.logParameter("uid", `js-${n}`));
      lost.push(...(await project.save()).lost);
    }
    await pythonRuns;
    expect(lost).toEqual([]);
    const uids = (await openProject(file, { mode: "r" })).experiments.map((e) => String(e.parameters.uid));
    expect(uids.filter((u) => u.startsWith("js-"))).toHaveLength(n);
    expect(uids.filter((u) => u.startsWith("py-"))).toHaveLength(15);
  });
});
