/** Every failure labbook reports is one of these codes; the union is closed on purpose. */
export const ERROR_CODES = [
  "READ_ONLY",
  "SAVE_FAILED",
  "ARTIFACT_LOG",
  "ARTIFACT_LOAD",
  "VERSION_NOT_FOUND",
  "INVALID_VERSION",
  "INVALID_ARGUMENT",
  "CONFLICT",
  "NOT_FOUND",
  "INVALID_FORMAT",
  "UNSAFE_PATH",
  "MISSING_DEPENDENCY",
  "DEPENDENCY_CYCLE",
  "UNSUPPORTED",
  "STORAGE",
  "LOCKED",
  "STAGE_FAILED",
  "REMOTE",
  "UNREACHABLE",
  "TIMEOUT",
] as const;

export type LabbookErrorCode = (typeof ERROR_CODES)[number];

export interface LabbookErrorOptions {
  /** The file, key or location involved, when there is one. */
  path?: string | undefined;
  cause?: unknown;
}

/** Marks labbook errors so that two installed copies of core still recognise each other's errors. */
const BRAND: unique symbol = Symbol.for("@labbook/core/LabbookError") as never;

/**
 * The one error class labbook throws. Branch on `code`, never on the message.
 * `instanceof LabbookError` and `isLabbookError` check a brand, so they also hold for an error thrown
 * by another copy of @labbook/core (a second copy installed by a version skew).
 *
 * @example
 * try { await project.save() } catch (e) { if (isLabbookError(e, "CONFLICT")) retry() }
 */
export class LabbookError extends Error {
  override readonly name = "LabbookError";
  readonly code: LabbookErrorCode;
  readonly path: string | undefined;
  /** @internal */
  readonly [BRAND] = true;

  /** Recognises branded errors from any copy of core; subclasses keep the ordinary prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof (a subclass or this one)
    if (this !== LabbookError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  constructor(code: LabbookErrorCode, message: string, options: LabbookErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

/** True when `error` is a LabbookError (optionally with one of the given codes). */
export function isLabbookError(error: unknown, ...codes: LabbookErrorCode[]): error is LabbookError {
  if (typeof error !== "object" || error === null || (error as { [BRAND]?: unknown })[BRAND] !== true) return false;
  return codes.length === 0 || codes.includes((error as LabbookError).code);
}
