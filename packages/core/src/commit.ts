import { isLabbookError, LabbookError } from "./errors.js";
import type { ByteSource, Storage } from "./storage.js";

export interface CommitIndexOptions {
  readonly storage: Storage;
  /** The index key in `storage`. */
  readonly key: string;
  /** Commit conditionally against `version()` (false: plain overwrite, as mode "w" does). */
  readonly conditional: boolean;
  /** How many times to retry after another writer committed first. */
  readonly maxRetries: number;
  /** Take in what other writers committed since the last read (only called when conditional). */
  catchUp(): Promise<void>;
  /** The version the in-memory state is based on; undefined when the index did not exist. */
  version(): string | undefined;
  /** The index to write: its text, or its bytes as chunks to stream in order; throwing here is SAVE_FAILED with nothing written. */
  serialize(): string | readonly Uint8Array[];
  /** Called right before each write is sent. */
  beforeWrite?(): void;
}

/** Chunks of a large index are streamed (views of what was read, never copied into one buffer); small ones are one buffer. */
function bodyOf(text: string | readonly Uint8Array[]): ByteSource {
  if (typeof text === "string") return text;
  const size = text.reduce((sum, c) => sum + c.byteLength, 0);
  if (size > STREAM_FROM)
    return (async function* () {
      yield* text;
    })();
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of text) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
const STREAM_FROM = 4 * 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The one commit loop of every index (projects, repositories, releases): catch up, serialise, write
 * conditionally and durably; on CONFLICT back off with jitter and go again, up to `maxRetries`, then
 * CONFLICT. Resolves to the version written. Other failures are SAVE_FAILED (UNSAFE_PATH,
 * UNSUPPORTED and LOCKED pass through as they are).
 */
export async function commitIndex(options: CommitIndexOptions): Promise<string> {
  const where = options.storage.describe(options.key);
  for (let attempt = 0; ; attempt++) {
    if (options.conditional) await options.catchUp();
    let text: string | readonly Uint8Array[];
    try {
      text = options.serialize();
    } catch (cause) {
      if (isLabbookError(cause, "SAVE_FAILED")) throw cause;
      throw new LabbookError("SAVE_FAILED", `Cannot write ${where}: ${(cause as Error).message}. The stored index was not changed.`, { path: where, cause });
    }
    const version = options.version();
    const condition = !options.conditional ? {} : version === undefined ? { ifNoneMatch: "*" as const } : { ifMatch: version };
    try {
      options.beforeWrite?.();
      const body = bodyOf(text);
      const result = await options.storage.write(options.key, body, {
        ...condition,
        durable: true,
        // A stream's length, for progress and multipart planning.
        ...(typeof text === "string" || body instanceof Uint8Array ? {} : { size: text.reduce((sum, c) => sum + c.byteLength, 0) }),
      });
      return result.version;
    } catch (error) {
      if (!isLabbookError(error, "CONFLICT")) {
        // LOCKED: a lock nobody will release (see the message); retrying would only wait longer.
        if (isLabbookError(error, "UNSAFE_PATH", "UNSUPPORTED", "LOCKED")) throw error;
        throw new LabbookError("SAVE_FAILED", `Cannot write ${where}: ${(error as Error).message}`, { path: where, cause: error });
      }
      if (attempt >= options.maxRetries) {
        throw new LabbookError(
          "CONFLICT",
          `Gave up saving ${where} after ${attempt + 1} attempts: other writers kept changing it. Nothing of this save was committed; call save() again.`,
          { path: where, cause: error },
        );
      }
      await sleep(Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}
