import { LabbookError } from "@labbook/core";

/** Default time a tracking server has to answer one request. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Longest error body kept in a message (servers sometimes answer with a whole HTML page). */
const MAX_MESSAGE = 500;

/** The server's own message from an error body: MLflow's `message`, W&B's `errors[0].message`, else the text. */
function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown; errors?: Array<{ message?: unknown }> };
    const found = body.message ?? body.errors?.[0]?.message ?? body.error;
    if (typeof found === "string") return found;
  } catch {
    // Not JSON: use the text.
  }
  const plain = text
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return plain.length > MAX_MESSAGE ? `${plain.slice(0, MAX_MESSAGE)}…` : plain;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | AsyncIterable<Uint8Array> | undefined;
  timeoutMs: number;
  /** "MLflow" or "W&B", for messages. */
  service: string;
  /** What the caller was doing, for messages ("create run"). */
  what: string;
}

/**
 * One HTTP request with a deadline that covers the whole exchange (headers and body). A refused
 * connection is UNREACHABLE, a deadline passed is TIMEOUT, an error status is REMOTE with the status
 * and the server's message; the response body is returned as text.
 */
export async function request(url: string, options: RequestOptions): Promise<{ status: number; text: string }> {
  const replayable = options.body === undefined || typeof options.body === "string" || options.body instanceof Uint8Array;
  for (let attempt = 0; ; attempt++) {
    try {
      return await requestOnce(url, options);
    } catch (error) {
      // A kept-alive connection the server closed just as we reused it: send again on a fresh one.
      if (!replayable || attempt >= 2 || !isDroppedConnection(error)) throw error;
    }
  }
}

const DROPPED = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

function isDroppedConnection(error: unknown): boolean {
  if (!(error instanceof LabbookError) || error.code !== "UNREACHABLE") return false;
  const cause = (error.cause as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code !== undefined && DROPPED.has(cause.code);
}

async function requestOnce(url: string, options: RequestOptions): Promise<{ status: number; text: string }> {
  const { service, what, timeoutMs } = options;
  const where = new URL(url).origin;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    let response: Response;
    try {
      const init: RequestInit & { duplex?: "half" } = { method: options.method ?? "GET", signal: controller.signal };
      if (options.headers) init.headers = options.headers;
      if (options.body !== undefined) {
        init.body = options.body as NonNullable<RequestInit["body"]>;
        // A streamed body needs half-duplex in Node's fetch.
        if (typeof options.body !== "string" && !(options.body instanceof Uint8Array)) init.duplex = "half";
      }
      response = await fetch(url, init);
    } catch (cause) {
      if (controller.signal.aborted) {
        throw new LabbookError("TIMEOUT", `${service} at ${where} did not answer within ${timeoutMs} ms (${what}). Check the server, or raise timeoutMs.`, {
          path: url,
          cause,
        });
      }
      const reason = (cause as { cause?: { code?: string; message?: string } }).cause;
      throw new LabbookError(
        "UNREACHABLE",
        `Cannot reach ${service} at ${where} (${what}): ${reason?.code ?? reason?.message ?? (cause as Error).message}. Is the server running, and is the URL right?`,
        { path: url, cause },
      );
    }
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      if (controller.signal.aborted) {
        throw new LabbookError("TIMEOUT", `${service} at ${where} stopped answering within ${timeoutMs} ms (${what}).`, { path: url, cause });
      }
      throw new LabbookError("UNREACHABLE", `${service} at ${where} broke off its answer (${what}): ${(cause as Error).message}.`, { path: url, cause });
    }
    if (!response.ok) {
      throw new RemoteError(service, what, url, response.status, serverMessage(text));
    }
    return { status: response.status, text };
  } finally {
    clearTimeout(timer);
  }
}

/** A tracking server answered with an error status; `status` and `serverMessage` say what it said. */
export class RemoteError extends LabbookError {
  readonly status: number;
  readonly serverMessage: string;
  constructor(service: string, what: string, url: string, status: number, message: string) {
    const hint =
      status === 401 || status === 403
        ? " Check the credentials (token, user and password, API key) and that the URL points at the right server."
        : status >= 500
          ? " The server failed; look at its log, then run the export again (it resumes)."
          : "";
    super("REMOTE", `${service} at ${new URL(url).origin} answered ${status} to ${what}: ${message || "(no message)"}.${hint}`, { path: url });
    this.status = status;
    this.serverMessage = message;
  }
}
