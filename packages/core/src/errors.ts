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

/**
 * The one error class labbook throws. Branch on `code`, never on the message.
 *
 * @example
 * try { await project.save() } catch (e) { if (isLabbookError(e, "CONFLICT")) retry() }
 */
export class LabbookError extends Error {
  override readonly name = "LabbookError";
  readonly code: LabbookErrorCode;
  readonly path: string | undefined;

  constructor(code: LabbookErrorCode, message: string, options: LabbookErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

/** True when `error` is a LabbookError (optionally with one of the given codes). */
export function isLabbookError(error: unknown, ...codes: LabbookErrorCode[]): error is LabbookError {
  return error instanceof LabbookError && (codes.length === 0 || codes.includes(error.code));
}
