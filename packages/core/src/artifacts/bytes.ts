import type { ArtifactHandler } from "./handler.js";

/**
 * Raw bytes. Give it a Uint8Array, or any async iterable of chunks (a Node Readable, a file stream)
 * to write a large artifact without holding it in memory; read large ones with `openArtifactStream`.
 */
export const bytesHandler: ArtifactHandler<Uint8Array | AsyncIterable<Uint8Array>> = {
  alias: "bytes",
  suffix: "bin",
  binary: true,
  write: (value) => {
    if (value instanceof Uint8Array) return value;
    if (value && typeof (value as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function") return value;
    throw new TypeError("the bytes handler takes a Uint8Array or an async iterable of Uint8Array chunks");
  },
  read: async (source) => source.bytes(),
};
