import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isLabbookError, type LabbookError, Project } from "@labbook/core";
import { LocalStorage } from "@labbook/storage-local";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "labbook-wedged-lock-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A project with one saved experiment, and a second one waiting to be saved. */
async function pendingSave(): Promise<Project> {
  const storage = new LocalStorage(root);
  const project = await Project.open("project.json", { storage, author: "ada" });
  await project.log("first", () => {});
  await project.save();
  await project.log("second", () => {});
  return project;
}

async function failsQuickly(project: Project): Promise<LabbookError> {
  const started = Date.now();
  const error = await project.save().then(
    () => undefined,
    (e: unknown) => e,
  );
  // Well under the minutes it took before; the lock library's first attempt fails at once.
  expect(Date.now() - started).toBeLessThan(5000);
  expect(isLabbookError(error, "LOCKED"), String(error)).toBe(true);
  return error as LabbookError;
}

describe("a lock that would wedge every save", () => {
  it("a plain project.json.lock file (Python's filelock leaves one): LOCKED at once, naming it and what to do", async () => {
    const project = await pendingSave();
    const lock = path.join(root, "project.json.lock");
    await writeFile(lock, "");
    await utimes(lock, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const error = await failsQuickly(project);
    expect(error.path).toBe(lock);
    expect(error.message).toContain(lock);
    expect(error.message).toMatch(/delete it/);
    // Nothing was committed; after the file is removed the same save goes through.
    expect((await Project.open("project.json", { storage: new LocalStorage(root), mode: "r" })).size).toBe(1);
    await rm(lock);
    await project.save();
    expect((await Project.open("project.json", { storage: new LocalStorage(root), mode: "r" })).size).toBe(2);
  });

  it("a lock folder with a modification time in the future: LOCKED at once, naming it", async () => {
    const project = await pendingSave();
    const lock = path.join(root, "project.json.lock");
    await mkdir(lock);
    const future = new Date(Date.now() + 3_600_000);
    await utimes(lock, future, future);
    const error = await failsQuickly(project);
    expect(error.path).toBe(lock);
    expect(error.message).toContain("future");
    expect(error.message).toMatch(/remove/);
  });

  it("a lock folder held by a live writer is waited for, not refused", async () => {
    const project = await pendingSave();
    const lock = path.join(root, "project.json.lock");
    await mkdir(lock);
    setTimeout(() => void rm(lock, { recursive: true }), 300);
    await project.save();
    expect((await Project.open("project.json", { storage: new LocalStorage(root), mode: "r" })).size).toBe(2);
  });
});
