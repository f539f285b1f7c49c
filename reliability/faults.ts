/**
 * Fault injection on S3: a middleware in the S3 client's stack (deserialize step, inside the SDK's
 * own deserializer and retries) makes requests fail at random, the way real networks and S3 do:
 * connection resets before the request is sent, 500 InternalError and 503 SlowDown answers instead
 * of the server's, and 500s after the server already did the work (the nastiest case: the write
 * happened, the client is told it did not). Project saves with small and multipart artifacts run
 * against it; after every save() the stored project is read through a clean client and checked.
 */
import { createHash, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { isLabbookError, joinKey, LabbookError, Project, type Storage } from "../packages/core/src/index.js";
import { S3Storage } from "../packages/storage-s3/src/index.js";
import { checkStored, openStorage, repoRoot, type StorageSpec } from "./common.js";

const MiB = 1024 * 1024;

// The SDK is a dependency of @labbook/storage-s3, not of this folder; resolve it from there.
// Types come through S3Storage, whose own folder resolves the SDK's declarations.
type S3Client = S3Storage["client"];
const sdk = createRequire(path.join(repoRoot, "packages/storage-s3/package.json"))("@aws-sdk/client-s3") as {
  S3Client: new (config: Record<string, unknown>) => S3Client;
};

export type FaultKind = "reset" | "internalError" | "slowDown" | "lostResponse";
const KINDS: FaultKind[] = ["reset", "internalError", "slowDown", "lostResponse"];

interface FakeResponse {
  statusCode: number;
  reason: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

function errorResponse(status: number, code: string, message: string): FakeResponse {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault</RequestId><HostId>fault</HostId></Error>`;
  return {
    statusCode: status,
    reason: message,
    headers: { "content-type": "application/xml", "x-amz-request-id": "fault" },
    body: Buffer.from(xml, "utf8"),
  };
}

/** A switchable random fault injector; `counts` says what it did. */
export class FaultInjector {
  armed = false;
  readonly counts: Record<FaultKind, number> = { reset: 0, internalError: 0, slowDown: 0, lostResponse: 0 };
  /** Injected faults by S3 command (PutObject, UploadPart, CompleteMultipartUpload…). */
  readonly byCommand: Record<string, number> = {};
  constructor(readonly rate: number) {}

  get total(): number {
    return KINDS.reduce((n, k) => n + this.counts[k], 0);
  }

  /** Add the injecting middleware to `client`'s stack. */
  install(client: S3Client): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.armed || Math.random() >= this.rate) return next(args);
        const kind = KINDS[Math.floor(Math.random() * KINDS.length)] as FaultKind;
        this.counts[kind]++;
        const command = String(context.commandName ?? "unknown").replace(/Command$/, "");
        this.byCommand[command] = (this.byCommand[command] ?? 0) + 1;
        switch (kind) {
          case "reset":
            throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
          case "internalError":
            return { response: errorResponse(500, "InternalError", "We encountered an internal error. Please try again."), output: undefined } as never;
          case "slowDown":
            return { response: errorResponse(503, "SlowDown", "Please reduce your request rate."), output: undefined } as never;
          case "lostResponse": {
            // The server does the work; its answer is replaced by a 500.
            const real = (await next(args)) as { response: { body?: { resume?: () => void } } };
            real.response.body?.resume?.();
            return { response: errorResponse(500, "InternalError", "We encountered an internal error. Please try again."), output: undefined } as never;
          }
        }
      },
      // Low priority inside the deserialize step: below the SDK's deserializer (which turns our fake
      // answers into its typed errors) and below its retry middleware (so every attempt can fail).
      { step: "deserialize", priority: "low", name: "labbookFaultInjection" },
    );
  }
}

export interface FaultFigures {
  /** Experiments logged, one save (plus retries) each. */
  saves: number;
  /** Saves whose experiment carried a bytes artifact over the multipart threshold. */
  multipartSaves: number;
  /** save() calls, first tries and retries. */
  attempts: number;
  /** Experiments present, exactly once, with valid artifacts, at the end. */
  committed: number;
  faultsInjected: number;
  faultsByKind: Record<FaultKind, number>;
  faultsByCommand: Record<string, number>;
  /** save() calls that threw. */
  failedSaves: number;
  /** Of those: threw a LabbookError and left a valid stored state (before or after, whole). */
  failedClean: number;
  /** Threw something that is not a LabbookError. */
  untyped: number;
  /** Threw and left an invalid stored state (torn index, missing or wrong artifact, lost or doubled experiment). */
  invalidAfterFailure: number;
  /** Resolved but the experiment was not stored whole. */
  invalidAfterSuccess: number;
  /** Saves still failing after `maxAttempts` tries. */
  gaveUp: number;
  lost: number;
  duplicated: number;
  errorCodes: Record<string, number>;
  failures: string[];
  ms: number;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Check the stored project through a storage without faults: it parses; every experiment confirmed
 * before is there exactly once; `current` is there at most once (`mustHave`: exactly once); nothing
 * else is; and `current`'s artifacts, if it is stored, are there with their sha256.
 */
async function verifyState(clean: Storage, confirmed: Set<string>, current: string, mustHave: boolean): Promise<string | undefined> {
  let check: Awaited<ReturnType<typeof checkStored>>;
  try {
    check = await checkStored(clean, "project.json", { artifacts: false });
  } catch (error) {
    if (isLabbookError(error, "NOT_FOUND") && confirmed.size === 0 && !mustHave) return undefined;
    return `project.json unreadable: ${(error as Error).message}`;
  }
  for (const uid of confirmed) if (check.uids.get(uid) !== 1) return `${uid} stored ${check.uids.get(uid) ?? 0} times`;
  const n = check.uids.get(current) ?? 0;
  if (n > 1 || (mustHave && n !== 1)) return `${current} stored ${n} times`;
  for (const uid of check.uids.keys()) if (uid !== current && !confirmed.has(uid)) return `unexpected experiment ${uid}`;
  if (n === 1) {
    const records = JSON.parse(new TextDecoder().decode(await clean.read("project.json"))) as Array<{
      slug: string;
      parameters: { uid?: unknown };
      artifacts: Array<{ fname: string; sha256?: string; size?: number }>;
    }>;
    const record = records.find((r) => r.parameters.uid === current);
    for (const a of record?.artifacts ?? []) {
      const key = joinKey(record?.slug ?? "", a.fname);
      try {
        const bytes = await clean.read(key);
        if (a.sha256 === undefined || sha256(bytes) !== a.sha256 || (a.size !== undefined && a.size !== bytes.byteLength))
          return `${key} does not match its entry`;
      } catch (error) {
        return `${key} missing: ${(error as Error).message}`;
      }
    }
  }
  return undefined;
}

/**
 * `saves` experiments are logged into one project on S3 and saved through a client whose requests
 * fail at `faultRate`. Every `multipartEvery`-th experiment also carries a bytes artifact bigger than
 * the multipart threshold. After each save() (resolved or thrown) the stored state is checked; a
 * thrown save is called again (up to `maxAttempts`), as a user's job would.
 */
export async function faultsS3(options: {
  saves: number;
  storage: Extract<StorageSpec, { kind: "s3" }>;
  faultRate?: number;
  multipartEvery?: number;
  /** Bytes of the big artifacts (default 11 MiB: three 5 MiB parts). */
  bigBytes?: number;
  /** SDK attempts per request (default 2, so some faults get through to labbook). */
  sdkAttempts?: number;
  maxAttempts?: number;
}): Promise<FaultFigures> {
  const started = Date.now();
  const spec = options.storage;
  const injector = new FaultInjector(options.faultRate ?? 0.2);
  const client = new sdk.S3Client({
    endpoint: spec.endpoint,
    region: spec.region ?? "us-east-1",
    forcePathStyle: true,
    credentials: spec.credentials ?? { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: options.sdkAttempts ?? 2,
  });
  injector.install(client);
  const storage = new S3Storage({ bucket: spec.bucket, prefix: spec.prefix, client, partSize: 5 * MiB, conditionalWrites: true });
  const clean = await openStorage(spec);
  const figures: FaultFigures = {
    saves: 0,
    multipartSaves: 0,
    attempts: 0,
    committed: 0,
    faultsInjected: 0,
    faultsByKind: injector.counts,
    faultsByCommand: injector.byCommand,
    failedSaves: 0,
    failedClean: 0,
    untyped: 0,
    invalidAfterFailure: 0,
    invalidAfterSuccess: 0,
    gaveUp: 0,
    lost: 0,
    duplicated: 0,
    errorCodes: {},
    failures: [],
    ms: 0,
  };
  const fail = (message: string) => {
    if (figures.failures.length < 20) figures.failures.push(message);
  };
  const confirmed = new Set<string>();
  try {
    const project = await Project.open("project.json", { storage, author: "faulty" });
    const every = options.multipartEvery ?? 2;
    for (let s = 0; s < options.saves; s++) {
      const uid = `f-${s}`;
      const big = s % every === 0;
      await project.log(`fault run ${s}`, (e) => {
        e.logParameter("uid", uid);
        e.logMetric("score", Math.random());
        e.logArtifact("summary", { uid, values: Array.from({ length: 32 }, (_, k) => k * s) }, { handler: "json" });
        if (big) e.logArtifact("weights", randomBytes(options.bigBytes ?? 11 * MiB), { handler: "bytes" });
      });
      figures.saves++;
      if (big) figures.multipartSaves++;
      let done = false;
      for (let attempt = 0; attempt < (options.maxAttempts ?? 25) && !done; attempt++) {
        figures.attempts++;
        injector.armed = true;
        let thrown: unknown;
        try {
          await project.save();
          done = true;
        } catch (error) {
          thrown = error;
        } finally {
          injector.armed = false;
        }
        const problem = await verifyState(clean, confirmed, uid, done);
        if (done) {
          if (problem) {
            figures.invalidAfterSuccess++;
            fail(`save of ${uid} resolved but: ${problem}`);
          }
          continue;
        }
        figures.failedSaves++;
        const code = thrown instanceof LabbookError ? thrown.code : "untyped";
        figures.errorCodes[code] = (figures.errorCodes[code] ?? 0) + 1;
        if (!(thrown instanceof LabbookError)) {
          figures.untyped++;
          fail(`save of ${uid} threw an untyped ${String(thrown)}`);
        }
        if (problem) {
          figures.invalidAfterFailure++;
          fail(`save of ${uid} threw ${code} and left: ${problem}`);
        } else if (thrown instanceof LabbookError) figures.failedClean++;
      }
      if (done) confirmed.add(uid);
      else {
        figures.gaveUp++;
        fail(`save of ${uid} still failing after ${options.maxAttempts ?? 25} attempts`);
      }
    }
    // The end state, artifacts and all, through the clean client.
    const end = await checkStored(clean);
    for (const uid of confirmed) {
      const n = end.uids.get(uid) ?? 0;
      if (n === 0) figures.lost++;
      if (n > 1) figures.duplicated += n - 1;
      if (n === 1) figures.committed++;
    }
    if (end.brokenArtifacts.length > 0) fail(`broken artifacts at the end: ${end.brokenArtifacts.join(", ")}`);
  } finally {
    figures.faultsInjected = injector.total;
    figures.ms = Date.now() - started;
    client.destroy();
  }
  return figures;
}

export interface RepositoryFaultFigures {
  saves: number;
  attempts: number;
  faultsInjected: number;
  failedSaves: number;
  failedClean: number;
  untyped: number;
  invalid: number;
  lost: number;
  duplicated: number;
  failures: string[];
  ms: number;
}

/**
 * `saves` versions of two names are logged into one repository on S3 through the faulty client, a
 * save after each, retried until it succeeds. After every save() the stored repository must parse,
 * hold versions 0..n-1 per name, every value at most once (exactly once when confirmed), and every
 * file its index names with the recorded sha256.
 */
export async function faultsRepositoryS3(options: {
  saves: number;
  storage: Extract<StorageSpec, { kind: "s3" }>;
  faultRate?: number;
  sdkAttempts?: number;
  maxAttempts?: number;
}): Promise<RepositoryFaultFigures> {
  const { Repository } = await import("../packages/repository/src/index.js");
  const { parsePyJson } = await import("../packages/core/src/index.js");
  const { repositoryFileSchema } = await import("../packages/core/src/schemas-entry.js");
  const { validateFile } = await import("../packages/core/src/internal.js");
  const started = Date.now();
  const spec = options.storage;
  const injector = new FaultInjector(options.faultRate ?? 0.2);
  const client = new sdk.S3Client({
    endpoint: spec.endpoint,
    region: spec.region ?? "us-east-1",
    forcePathStyle: true,
    credentials: spec.credentials ?? { accessKeyId: "testing", secretAccessKey: "testing" },
    maxAttempts: options.sdkAttempts ?? 2,
  });
  injector.install(client);
  const storage = new S3Storage({ bucket: spec.bucket, prefix: spec.prefix, client, conditionalWrites: true });
  const clean = await openStorage(spec);
  const f: RepositoryFaultFigures = {
    saves: 0,
    attempts: 0,
    faultsInjected: 0,
    failedSaves: 0,
    failedClean: 0,
    untyped: 0,
    invalid: 0,
    lost: 0,
    duplicated: 0,
    failures: [],
    ms: 0,
  };
  const fail = (m: string) => {
    if (f.failures.length < 20) f.failures.push(m);
  };
  const confirmed = new Set<string>();
  const verify = async (current: string, mustHave: boolean): Promise<string | undefined> => {
    let entries: Array<{ name: string; version: number; fname: string; sha256?: string | undefined }>;
    try {
      const text = new TextDecoder().decode(await clean.read("repository.json"));
      entries = validateFile(repositoryFileSchema, parsePyJson(text, "repository.json"), "repository.json");
    } catch (error) {
      if (isLabbookError(error, "NOT_FOUND") && confirmed.size === 0 && !mustHave) return undefined;
      return `repository.json unreadable: ${(error as Error).message}`;
    }
    const uids = new Map<string, number>();
    const versions = new Map<string, number[]>();
    for (const e of entries) {
      versions.set(e.name, [...(versions.get(e.name) ?? []), e.version]);
      try {
        const bytes = await clean.read(joinKey(e.name, e.fname));
        if (e.sha256 === undefined || sha256(bytes) !== e.sha256) return `${e.name} v${e.version} does not match its sha256`;
        const uid = String((JSON.parse(new TextDecoder().decode(bytes)) as { uid: unknown }).uid);
        uids.set(uid, (uids.get(uid) ?? 0) + 1);
      } catch (error) {
        return `${e.name} v${e.version} (${e.fname}) unreadable: ${(error as Error).message}`;
      }
    }
    for (const [name, list] of versions) {
      const sorted = [...list].sort((a, b) => a - b);
      if (sorted.some((v, i) => v !== i)) return `${name} has versions ${sorted.join(",")}`;
    }
    for (const uid of confirmed) if (uids.get(uid) !== 1) return `${uid} stored ${uids.get(uid) ?? 0} times`;
    const n = uids.get(current) ?? 0;
    if (n > 1 || (mustHave && n !== 1)) return `${current} stored ${n} times`;
    return undefined;
  };
  try {
    const repo = await Repository.open("repository.json", { storage });
    for (let s = 0; s < options.saves; s++) {
      const uid = `r-${s}`;
      repo.logArtifact(s % 2 === 0 ? "model" : "thresholds", { uid, values: Array.from({ length: 16 }, (_, k) => k * s) }, { handler: "json" });
      f.saves++;
      let done = false;
      for (let attempt = 0; attempt < (options.maxAttempts ?? 25) && !done; attempt++) {
        f.attempts++;
        injector.armed = true;
        let thrown: unknown;
        try {
          await repo.save();
          done = true;
        } catch (error) {
          thrown = error;
        } finally {
          injector.armed = false;
        }
        const problem = await verify(uid, done);
        if (problem) {
          f.invalid++;
          fail(`${done ? "resolved" : `threw ${(thrown as { code?: string })?.code}`} on ${uid}: ${problem}`);
        }
        if (done) continue;
        f.failedSaves++;
        if (!(thrown instanceof LabbookError)) {
          f.untyped++;
          fail(`untyped ${String(thrown)}`);
        } else if (!problem) f.failedClean++;
      }
      if (done) confirmed.add(uid);
      else fail(`${uid} still failing after ${options.maxAttempts ?? 25} attempts`);
    }
    const end = await verify("", false);
    if (end) {
      f.invalid++;
      fail(`end state: ${end}`);
    }
    f.lost = end?.includes("stored 0 times") ? 1 : 0;
    f.duplicated = end && /stored [2-9]/.test(end) ? 1 : 0;
  } finally {
    f.faultsInjected = injector.total;
    f.ms = Date.now() - started;
    client.destroy();
  }
  return f;
}
