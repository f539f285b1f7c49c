/**
 * Shared pieces of the reliability suite: how worker processes are started (TypeScript source run
 * through tsx with the "@labbook/source" condition, so no build is needed) and how a stored project
 * is checked afterwards.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { joinKey, parsePyJson, type Storage } from "../packages/core/src/index.js";
import { validateFile } from "../packages/core/src/internal.js";
import { projectFileSchema } from "../packages/core/src/schemas-entry.js";
import { LocalStorage } from "../packages/storage-local/src/index.js";

export const reliabilityDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.dirname(reliabilityDir);

// tsx is a devDependency of @labbook/storage-local; Node 20 cannot run the source by itself
// (--experimental-strip-types neither exists there nor maps ".js" imports to ".ts" files).
const tsxLoader = pathToFileURL(createRequire(path.join(repoRoot, "packages/storage-local/package.json")).resolve("tsx")).href;

/** Where a scenario's bytes live, as plain data so it can be handed to worker processes. */
export type StorageSpec =
  | { kind: "local"; root: string; staleLockMs?: number }
  | { kind: "s3"; endpoint: string; bucket: string; prefix: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } };

/**
 * Open the storage a spec names (moto's dummy credentials unless others are given). The S3 adapter
 * is imported only when asked for, so local workers (200 crash trials) do not pay for loading the SDK.
 */
export async function openStorage(spec: StorageSpec): Promise<Storage> {
  if (spec.kind === "local") return new LocalStorage(spec.root, spec.staleLockMs === undefined ? {} : { staleLockMs: spec.staleLockMs });
  const { S3Storage } = await import("../packages/storage-s3/src/index.js");
  return new S3Storage({
    bucket: spec.bucket,
    prefix: spec.prefix,
    endpoint: spec.endpoint,
    region: spec.region ?? "us-east-1",
    credentials: spec.credentials ?? { accessKeyId: "testing", secretAccessKey: "testing" },
  });
}

/** Start `reliability/<script>` as a separate Node process with an IPC channel. */
export function startWorker(script: string, args: unknown, options: { silent?: boolean } = {}): ChildProcess {
  return fork(path.join(reliabilityDir, script), [JSON.stringify(args)], {
    execArgv: ["--import", tsxLoader, "--conditions=@labbook/source", "--no-warnings"],
    stdio: options.silent ? ["ignore", "ignore", "pipe", "ipc"] : ["ignore", "inherit", "inherit", "ipc"],
  });
}

/** Resolve when the process exits; reject with its stderr when it fails. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`worker exited with ${code}: ${stderr.slice(-2000)}`));
      else resolve({ code, signal });
    });
  });
}

export interface StoredCheck {
  /** Experiments in the file. */
  experiments: number;
  /** How many times each `parameters.uid` occurs. */
  uids: Map<string, number>;
  /** Artifact files the index names that are missing or do not match their sha256. */
  brokenArtifacts: string[];
}

/**
 * Read and check a stored project: the file must parse and validate (a torn or corrupt file
 * throws), and every artifact it names must exist with the recorded checksum.
 */
export async function checkStored(storage: Storage, location = "project.json", options: { artifacts?: boolean } = {}): Promise<StoredCheck> {
  const text = new TextDecoder().decode(await storage.read(location));
  const records = validateFile(projectFileSchema, parsePyJson(text, location), location);
  const uids = new Map<string, number>();
  const brokenArtifacts: string[] = [];
  const dir = location.includes("/") ? location.slice(0, location.lastIndexOf("/")) : "";
  for (const r of records) {
    const uid = String(r.parameters.uid);
    uids.set(uid, (uids.get(uid) ?? 0) + 1);
    if (options.artifacts === false) continue;
    for (const a of r.artifacts) {
      const key = joinKey(dir, r.slug, a.fname);
      try {
        const bytes = await storage.read(key);
        if (a.sha256 && createHash("sha256").update(bytes).digest("hex") !== a.sha256) brokenArtifacts.push(`${key} (checksum)`);
      } catch {
        brokenArtifacts.push(key);
      }
    }
  }
  return { experiments: records.length, uids, brokenArtifacts };
}

/** Count lost and duplicated ids against the ids that were written. */
export function tally(expected: Iterable<string>, uids: Map<string, number>): { written: number; found: number; lost: number; duplicated: number } {
  let written = 0;
  let lost = 0;
  let duplicated = 0;
  for (const uid of expected) {
    written++;
    const n = uids.get(uid) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated += n - 1;
  }
  let found = 0;
  for (const n of uids.values()) found += n;
  return { written, found, lost, duplicated };
}
