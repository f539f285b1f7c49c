import {
  type ArtifactEntry,
  type ArtifactHandler,
  type ByteSource,
  bytesHandler,
  type CsvRow,
  csvHandler,
  jsonHandler,
  textHandler,
  yamlHandler,
} from "@labbook/core";

/**
 * Turns one stage output into bytes in the cache and back. The built-ins wrap core's artifact
 * handlers; a user cacher only needs these members.
 *
 * @example
 * const npy: Cacher<Float64Array> = { name: "f64", extension: "f64", encode: (v) => new Uint8Array(v.buffer), decode: (b) => new Float64Array(b.slice().buffer) };
 */
export interface Cacher<T = unknown> {
  /** Recorded in `_metadata.json`, e.g. "json". */
  readonly name: string;
  /** File extension of the cached file, without the dot. */
  readonly extension: string;
  /** When set, outputs chosen as artifacts are logged with this core handler alias (otherwise as bytes). */
  readonly handler?: string | undefined;
  encode(value: T): ByteSource | Promise<ByteSource>;
  decode(bytes: Uint8Array, location: string): T | Promise<T>;
}

/** A cacher on one of core's artifact handlers (json, text, bytes, csv, yaml or your own handler). */
export function handlerCacher<T>(handler: ArtifactHandler<T>, writerOptions: Readonly<Record<string, unknown>> = {}): Cacher<T> {
  return {
    name: handler.alias,
    extension: handler.suffix,
    handler: handler.alias,
    encode: (value) => handler.write(value, writerOptions),
    decode: (bytes, location) => {
      const entry = { created_at: "", expiry: null, fname: location, handler: handler.alias, name: location, version: 0 } satisfies ArtifactEntry;
      return handler.read({
        entry,
        location,
        bytes: async () => bytes,
        stream: async () =>
          (async function* () {
            yield bytes;
          })(),
      });
    },
  };
}

/** The built-in cachers. */
export const cachers = {
  /** JSON in Python's spelling (what lazyscribe's json handler reads). */
  json: <T = unknown>(options: { indent?: number | undefined } = {}): Cacher<T> =>
    handlerCacher(jsonHandler as ArtifactHandler<T>, options.indent === undefined ? {} : { indent: options.indent }),
  text: (): Cacher<string> => handlerCacher(textHandler),
  bytes: (): Cacher<Uint8Array> => handlerCacher(bytesHandler) as Cacher<Uint8Array>,
  csv: (): Cacher<CsvRow[]> => handlerCacher(csvHandler),
  yaml: <T = unknown>(): Cacher<T> => handlerCacher(yamlHandler as ArtifactHandler<T>),
};
