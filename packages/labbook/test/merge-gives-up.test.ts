/**
 * `labbook merge --into C` when the merge keeps losing its race to writers saving into C: its save
 * gives up with CONFLICT and the command saves again. That second save once returned without
 * writing (nothing looked changed), so the merge exited 0 and its experiments were never in C
 * (the reliability suite lost a whole merge that way). Here the ordering is forced on real local
 * disk: right before each of the merge's first conditional index writes, a rival saves into C.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LocalStorage } from "@labbook/storage-local";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { merge } from "../src/cli/merge.js";
import { openProject } from "../src/open.js";

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "labbook-merge-gives-up-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(tmp, { recursive: true, force: true });
});

async function makeProject(folder: string, author: string, names: string[]): Promise<void> {
  const project = await openProject(folder, { mode: "a", author });
  for (const name of names) await project.log(name, (e) => e.logArtifact("summary", { name }, { handler: "json" }));
  await project.save();
}

async function namesIn(folder: string): Promise<string[]> {
  const project = await openProject(folder, { mode: "r" });
  return project.experiments.map((e) => e.name).sort();
}

describe("labbook merge that gives up against writers and saves again", () => {
  it("commits every merged experiment (with its artifact) beside every rival's", async () => {
    const target = path.join(tmp, "target");
    const a = path.join(tmp, "a");
    const b = path.join(tmp, "b");
    await makeProject(target, "t", ["t0"]);
    await makeProject(a, "a", ["a0", "a1"]);
    await makeProject(b, "b", ["b0"]);

    // The merge's first 12 conditional index writes each find a rival's save there first: more
    // than one save()'s 9 attempts, so the command's own retry is what has to commit.
    const rivals: string[] = [];
    let left = 12;
    let busy = false;
    const write = LocalStorage.prototype.write;
    vi.spyOn(LocalStorage.prototype, "write").mockImplementation(async function (this: LocalStorage, key, data, options) {
      if (!busy && left > 0 && key === "project.json" && options?.ifMatch !== undefined && this.root === target) {
        left--;
        busy = true;
        try {
          const rival = await openProject(target, { mode: "a", author: "rival" });
          const name = `rival ${rivals.length}`;
          rivals.push(name);
          await rival.log(name, () => {});
          await rival.save();
        } finally {
          busy = false;
        }
      }
      return write.call(this, key, data, options);
    });
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);

    await merge([a, b], target, { json: true });

    expect(left).toBe(0);
    expect(await namesIn(target)).toEqual(["a0", "a1", "b0", "t0", ...rivals].sort());
    const merged = await openProject(target, { mode: "r" });
    const a1 = merged.experiments.find((e) => e.name === "a1");
    expect(await a1?.loadArtifact("summary")).toEqual({ name: "a1" });
  });
});
