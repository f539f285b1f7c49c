import { LabbookError } from "../errors.js";
import type { ArtifactEntry } from "../schemas.js";
import type { ByteSource } from "../storage.js";

/** What a handler's `read` gets: the entry and lazy access to the stored bytes. */
export interface ArtifactSource {
  readonly entry: ArtifactEntry;
  /** Where the file is, for messages. */
  readonly location: string;
  bytes(): Promise<Uint8Array>;
  stream(): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * Turns values into stored bytes and back. `alias` is the `handler` field written in the entry,
 * `suffix` the default file extension. Register your own with `HandlerRegistry.register`.
 *
 * @example
 * registry.register({ alias: "npy", suffix: "npy", binary: true, write: (v) => encode(v), read: async (s) => decode(await s.bytes()) })
 */
export interface ArtifactHandler<T = unknown> {
  readonly alias: string;
  readonly suffix: string;
  readonly binary: boolean;
  /** Serialise a value; large values may come back as a stream. `options` are the writer options given to logArtifact. */
  write(value: T, options: Readonly<Record<string, unknown>>): ByteSource | Promise<ByteSource>;
  read(source: ArtifactSource): Promise<T>;
  /** Extra handler-specific fields to record in the entry (lazyscribe's pickle handler adds python_version). */
  entryFields?(value: T): Record<string, string | number | boolean | null>;
}

/** Handlers by alias. One per project or repository; `defaultHandlers()` has the built-ins. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, ArtifactHandler<unknown>>();

  constructor(handlers: Iterable<ArtifactHandler<never>> = []) {
    for (const h of handlers) this.register(h);
  }

  /** Add or replace a handler. */
  register<T>(handler: ArtifactHandler<T>): this {
    this.handlers.set(handler.alias, handler as unknown as ArtifactHandler<unknown>);
    return this;
  }

  has(alias: string): boolean {
    return this.handlers.has(alias);
  }

  /** The handler for `alias`, or undefined (entries written by unknown handlers stay loadable as metadata). */
  find(alias: string): ArtifactHandler<unknown> | undefined {
    return this.handlers.get(alias);
  }

  /** The handler for logging; an unknown alias is ARTIFACT_LOG. */
  forLog(alias: string, artifact: string): ArtifactHandler<unknown> {
    const h = this.handlers.get(alias);
    if (!h) {
      throw new LabbookError(
        "ARTIFACT_LOG",
        `Cannot log artifact "${artifact}": no handler "${alias}". Known handlers: ${[...this.handlers.keys()].join(", ")}. Register one with HandlerRegistry.register().`,
      );
    }
    return h;
  }

  /** The handler for loading; an unknown alias is ARTIFACT_LOAD, naming the handler. */
  forLoad(alias: string, artifact: string, location: string): ArtifactHandler<unknown> {
    const h = this.handlers.get(alias);
    if (!h) {
      throw new LabbookError(
        "ARTIFACT_LOAD",
        `Cannot load artifact "${artifact}" (${location}): it was written with the "${alias}" handler, which labbook cannot read. Its entry and file are kept as they are; register a "${alias}" handler to read it.`,
        { path: location },
      );
    }
    return h;
  }

  aliases(): string[] {
    return [...this.handlers.keys()];
  }
}
