import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Provenance } from "./record.js";

function git(args: string[], cwd: string): string | null {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

/** This package's version (the "labbook version" recorded with cached outputs). */
export function pipelineVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Git commit and dirtiness of the working tree at `cwd` (null outside a repository or without git). */
export function readProvenance(cwd = process.cwd()): Provenance {
  const commit = git(["rev-parse", "HEAD"], cwd);
  const status = commit === null ? null : git(["status", "--porcelain", "--untracked-files=no"], cwd);
  return { labbookVersion: pipelineVersion(), gitCommit: commit, gitDirty: status === null ? null : status.length > 0 };
}

/** The nearest lockfile above `cwd` and its sha256, for store-full runs. */
export function lockfileHash(cwd = process.cwd()): { file: string; sha256: string } | null {
  let dir = path.resolve(cwd);
  for (;;) {
    for (const name of ["pnpm-lock.yaml", "package-lock.json", "yarn.lock", "bun.lock"]) {
      const file = path.join(dir, name);
      if (existsSync(file)) return { file, sha256: createHash("sha256").update(readFileSync(file)).digest("hex") };
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
