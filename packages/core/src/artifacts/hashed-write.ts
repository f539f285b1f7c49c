import { createHash, type Hash } from "node:crypto";
import type { ByteSource, Storage, WriteOptions } from "../storage.js";

/** What a hashing pass has seen so far. */
export interface HashState {
  readonly hash: Hash;
  size: number;
}

/** A fresh state for `hashing`. */
export function hashState(): HashState {
  return { hash: createHash("sha256"), size: 0 };
}

/** Pass `source` through, feeding every chunk to `state` (sha256 and byte count). */
export async function* hashing(source: AsyncIterable<Uint8Array>, state: HashState): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    state.hash.update(chunk);
    state.size += chunk.byteLength;
    yield chunk;
  }
}

/**
 * The one hashing writer: write `data` to `key` and tell its size and sha256, counted from the bytes
 * sent (a stream is hashed as it goes, never held whole). Storage errors reach the caller as they are.
 */
export async function writeHashed(storage: Storage, key: string, data: ByteSource, options: WriteOptions = {}): Promise<{ size: number; sha256: string }> {
  const state = hashState();
  if (typeof data === "string" || data instanceof Uint8Array) {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    state.hash.update(bytes);
    state.size = bytes.byteLength;
    await storage.write(key, bytes, options);
  } else {
    await storage.write(key, hashing(data, state), options);
  }
  return { size: state.size, sha256: state.hash.digest("hex") };
}
