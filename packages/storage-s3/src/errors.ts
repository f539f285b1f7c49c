import { LabbookError } from "@labbook/core";

/** What the SDK puts on a failed call; every field is optional because network errors carry none of it. */
interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

const CREDENTIAL_ERRORS = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "TokenRefreshRequired",
  "InvalidToken",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "CredentialsProviderError",
  "InvalidClientTokenId",
]);

const NETWORK_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "TimeoutError",
  "RequestTimeout",
  "NetworkingError",
]);

/** The AWS error name (NoSuchKey, PreconditionFailed, ...) or the Node error code of a network failure. */
export function awsErrorName(error: unknown): string | undefined {
  const e = error as AwsLikeError | undefined;
  if (!e || typeof e !== "object") return undefined;
  return e.name && e.name !== "Error" && e.name !== "S3ServiceException" ? e.name : (e.Code ?? e.code ?? e.name);
}

export function httpStatus(error: unknown): number | undefined {
  return (error as AwsLikeError | undefined)?.$metadata?.httpStatusCode;
}

export function isPreconditionFailed(error: unknown): boolean {
  return awsErrorName(error) === "PreconditionFailed" || httpStatus(error) === 412;
}

export function isMissingKey(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === "NoSuchKey" || name === "NotFound" || (httpStatus(error) === 404 && name !== "NoSuchBucket");
}

export function isConditionalRequestConflict(error: unknown): boolean {
  return awsErrorName(error) === "ConditionalRequestConflict" || (httpStatus(error) === 409 && awsErrorName(error) !== "BucketAlreadyExists");
}

/** Servers that do not implement a conditional header say so with 501 (or refuse the header outright). */
export function isNotImplemented(error: unknown): boolean {
  return awsErrorName(error) === "NotImplemented" || httpStatus(error) === 501;
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as AwsLikeError).code ?? (e as AwsLikeError).name;
    if (code && NETWORK_ERRORS.has(code)) return code;
    if (Array.isArray((e as { errors?: unknown[] }).errors)) {
      // AggregateError from happy-eyeballs connects: look at the first attempt.
      const inner = networkCode((e as { errors: unknown[] }).errors[0]);
      if (inner) return inner;
    }
  }
  return undefined;
}

/**
 * Turn an SDK failure into a LabbookError that names the bucket and key and says what to do.
 * `where` is the s3:// URL of the object, `action` a verb phrase ("read", "write", "list").
 */
export function toLabbookError(error: unknown, where: string, action: string, context: { bucket: string; endpoint: string }): LabbookError {
  if (error instanceof LabbookError) return error;
  const name = awsErrorName(error) ?? "Error";
  const status = httpStatus(error);
  const detail = (error as AwsLikeError | undefined)?.message ?? String(error);
  const options = { path: where, cause: error };
  if (isPreconditionFailed(error)) {
    return new LabbookError("CONFLICT", `${where} changed since it was read (or already exists): another writer got there first; re-read and retry.`, options);
  }
  if (name === "NoSuchBucket") {
    return new LabbookError(
      "STORAGE",
      `Cannot ${action} ${where}: bucket "${context.bucket}" does not exist at ${context.endpoint}. Create it or check the bucket name and region.`,
      options,
    );
  }
  if (isMissingKey(error)) return new LabbookError("NOT_FOUND", `No object at ${where}.`, options);
  if (name === "AccessDenied" || name === "AllAccessDisabled" || name === "Forbidden" || status === 403) {
    if (CREDENTIAL_ERRORS.has(name)) {
      return new LabbookError(
        "STORAGE",
        `Cannot ${action} ${where}: ${context.endpoint} rejected the credentials (${name}). Refresh or fix them (aws sso login, AWS_PROFILE, AWS_ACCESS_KEY_ID).`,
        options,
      );
    }
    const reason = name === "Unknown" || name === "Forbidden" || name === "403" ? "HTTP 403, the server gave no reason" : name;
    return new LabbookError(
      "STORAGE",
      `Cannot ${action} ${where}: access denied at ${context.endpoint} (${reason}). The credentials in use are wrong for this server or lack permission for this object or bucket "${context.bucket}"; check AWS_PROFILE / AWS_ACCESS_KEY_ID and the bucket policy.`,
      options,
    );
  }
  if (CREDENTIAL_ERRORS.has(name) || /credential/i.test(name)) {
    return new LabbookError(
      "STORAGE",
      `Cannot ${action} ${where}: the AWS credentials are missing, expired or invalid (${name}: ${detail}). Refresh or fix them (aws sso login, AWS_PROFILE, AWS_ACCESS_KEY_ID).`,
      options,
    );
  }
  const network = networkCode(error);
  if (network === "TimeoutError" || network === "ETIMEDOUT" || network === "RequestTimeout") {
    return new LabbookError(
      "STORAGE",
      `Cannot ${action} ${where}: ${context.endpoint} did not answer in time (${network}: ${detail}). Check that the endpoint is an S3 server and reachable; on a slow link raise the timeouts (options connectionTimeout and requestTimeout, or LABBOOK_S3_TIMEOUT for the labbook command).`,
      options,
    );
  }
  if (network) {
    return new LabbookError(
      "STORAGE",
      `Cannot ${action} ${where}: could not reach ${context.endpoint} (${network}). Check the endpoint, network and proxy settings.`,
      options,
    );
  }
  return new LabbookError("STORAGE", `Cannot ${action} ${where}: ${name}${status ? ` (HTTP ${status})` : ""}: ${detail}`, options);
}
