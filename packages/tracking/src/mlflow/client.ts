/**
 * A small client for MLflow's REST API (2.0 paths, served by MLflow 2.x and 3.x), over `fetch`.
 * Written here because no maintained npm MLflow client exists; it covers only what the exporter uses.
 */
import { LabbookError } from "@labbook/core";
import { DEFAULT_TIMEOUT_MS, RemoteError, request } from "../http.js";

/** Where and how to reach an MLflow tracking server. Unset fields come from the environment. */
export interface MlflowOptions {
  /** Default: MLFLOW_TRACKING_URI. */
  trackingUri?: string | undefined;
  /** Bearer token. Default: MLFLOW_TRACKING_TOKEN. */
  token?: string | undefined;
  /** Basic auth. Default: MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD. */
  username?: string | undefined;
  password?: string | undefined;
  /** Time one request may take, ms (default 30 000). */
  timeoutMs?: number | undefined;
}

export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface MlflowKeyValue {
  key: string;
  value: string;
}
export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status?: string;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: string;
}
export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] };
  inputs?: unknown;
}
export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  lifecycle_stage?: string;
}

/** MLflow's log-batch limits (documented in its REST API reference). */
export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  entitiesPerBatch: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
} as const;

/** MLflow's JSON carries NaN and the infinities as strings (protobuf's JSON mapping). */
function wireNumber(value: number): number | string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  return value;
}

function fromWire(value: unknown): number {
  return typeof value === "string" ? Number(value === "NaN" ? Number.NaN : value) : (value as number);
}

export class MlflowClient {
  readonly url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: MlflowOptions = {}) {
    const uri = options.trackingUri ?? process.env.MLFLOW_TRACKING_URI;
    if (!uri) {
      throw new LabbookError("INVALID_ARGUMENT", "No MLflow server given: pass trackingUri or set MLFLOW_TRACKING_URI (for example http://127.0.0.1:5000).");
    }
    if (!/^https?:\/\//.test(uri)) {
      throw new LabbookError(
        "INVALID_ARGUMENT",
        `MLflow tracking URI ${JSON.stringify(uri)} is not an http(s) URL; labbook exports to a tracking server over HTTP.`,
      );
    }
    this.url = uri.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#headers = { "content-type": "application/json" };
    const token = options.token ?? process.env.MLFLOW_TRACKING_TOKEN;
    const username = options.username ?? process.env.MLFLOW_TRACKING_USERNAME;
    const password = options.password ?? process.env.MLFLOW_TRACKING_PASSWORD;
    if (token) this.#headers.authorization = `Bearer ${token}`;
    else if (username !== undefined && password !== undefined) {
      this.#headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    }
  }

  async #call<T>(method: "GET" | "POST", path: string, what: string, body?: unknown): Promise<T> {
    let url = `${this.url}/api/2.0/mlflow/${path}`;
    if (method === "GET" && body !== undefined) {
      const query = new URLSearchParams(Object.entries(body as Record<string, string>).filter(([, v]) => v !== undefined));
      url += `?${query}`;
    }
    const { text } = await request(url, {
      method,
      headers: this.#headers,
      body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
      timeoutMs: this.#timeoutMs,
      service: "MLflow",
      what,
    });
    try {
      return (text.length === 0 ? {} : JSON.parse(text)) as T;
    } catch (cause) {
      throw new LabbookError("REMOTE", `MLflow at ${this.url} answered ${what} with something that is not JSON; is this an MLflow tracking server?`, {
        path: url,
        cause,
      });
    }
  }

  /** The experiment named `name`, or undefined. */
  async getExperimentByName(name: string): Promise<MlflowExperiment | undefined> {
    try {
      const body = await this.#call<{ experiment: MlflowExperiment }>("GET", "experiments/get-by-name", `get experiment "${name}"`, { experiment_name: name });
      return body.experiment;
    } catch (error) {
      if (error instanceof RemoteError && error.status === 404) return undefined;
      throw error;
    }
  }

  async createExperiment(name: string): Promise<string> {
    const body = await this.#call<{ experiment_id: string }>("POST", "experiments/create", `create experiment "${name}"`, { name });
    return body.experiment_id;
  }

  /** Every run of an experiment (deleted ones too), page by page. */
  async searchRuns(experimentId: string, filter?: string): Promise<MlflowRun[]> {
    const runs: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const body = await this.#call<{ runs?: MlflowRun[]; next_page_token?: string }>("POST", "runs/search", "search runs", {
        experiment_ids: [experimentId],
        run_view_type: "ALL",
        max_results: 1000,
        ...(filter ? { filter } : {}),
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      runs.push(...(body.runs ?? []));
      pageToken = body.next_page_token || undefined;
    } while (pageToken);
    return runs;
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const body = await this.#call<{ run: MlflowRun }>("GET", "runs/get", `get run ${runId}`, { run_id: runId });
    return body.run;
  }

  async createRun(experimentId: string, runName: string, startTime: number, tags: MlflowKeyValue[]): Promise<MlflowRun> {
    const body = await this.#call<{ run: MlflowRun }>("POST", "runs/create", `create run "${runName}"`, {
      experiment_id: experimentId,
      run_name: runName,
      start_time: startTime,
      tags,
    });
    return body.run;
  }

  async updateRun(runId: string, fields: { status?: string; end_time?: number; run_name?: string }): Promise<void> {
    await this.#call("POST", "runs/update", `update run ${runId}`, { run_id: runId, ...fields });
  }

  /** One log-batch call; the caller keeps it within MLFLOW_LIMITS. */
  async logBatch(runId: string, batch: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] }): Promise<void> {
    await this.#call("POST", "runs/log-batch", `log a batch to run ${runId}`, {
      run_id: runId,
      metrics: (batch.metrics ?? []).map((m) => ({ ...m, value: wireNumber(m.value) })),
      params: batch.params ?? [],
      tags: batch.tags ?? [],
    });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.#call("POST", "runs/set-tag", `set tag ${key} on run ${runId}`, { run_id: runId, key, value });
  }

  /** Every logged point of one metric of a run. */
  async metricHistory(runId: string, key: string): Promise<MlflowMetric[]> {
    const points: MlflowMetric[] = [];
    let pageToken: string | undefined;
    do {
      const body = await this.#call<{ metrics?: MlflowMetric[]; next_page_token?: string }>(
        "GET",
        "metrics/get-history",
        `read metric "${key}" of run ${runId}`,
        {
          run_id: runId,
          metric_key: key,
          max_results: "25000",
          ...(pageToken ? { page_token: pageToken } : {}),
        },
      );
      for (const m of body.metrics ?? []) points.push({ ...m, value: fromWire(m.value), step: Number(m.step ?? 0), timestamp: Number(m.timestamp) });
      pageToken = body.next_page_token || undefined;
    } while (pageToken);
    return points;
  }

  /** Files directly under `path` of a run's artifacts (sizes as the server reports them). */
  async listArtifacts(runId: string, path = ""): Promise<Array<{ path: string; is_dir?: boolean; file_size?: number }>> {
    const body = await this.#call<{ files?: Array<{ path: string; is_dir?: boolean; file_size?: string | number }> }>(
      "GET",
      "artifacts/list",
      `list artifacts of run ${runId}`,
      path ? { run_id: runId, path } : { run_id: runId },
    );
    return (body.files ?? []).map((f) => ({ ...f, file_size: f.file_size === undefined ? undefined : Number(f.file_size) })) as Array<{
      path: string;
      is_dir?: boolean;
      file_size?: number;
    }>;
  }

  /** Log dataset inputs (`runs/log-inputs`). */
  async logInputs(runId: string, datasets: unknown[]): Promise<void> {
    await this.#call("POST", "runs/log-inputs", `log inputs of run ${runId}`, { run_id: runId, datasets });
  }

  /**
   * Upload one file through the server's artifact proxy (`mlflow server --serve-artifacts`): the
   * run's artifact URI must be `mlflow-artifacts:/...`.
   */
  async uploadArtifact(run: MlflowRunInfo, path: string, body: Uint8Array | AsyncIterable<Uint8Array>, size?: number): Promise<void> {
    const uri = run.artifact_uri ?? "";
    const match = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
    if (!match) {
      throw new LabbookError(
        "UNSUPPORTED",
        `Run ${run.run_id} stores its artifacts at ${JSON.stringify(uri)}, which labbook cannot upload to over HTTP. Start the MLflow server with --serve-artifacts (artifact URIs "mlflow-artifacts:/...").`,
        { path: uri },
      );
    }
    const encoded = `${match[1]}/${path}`
      .split("/")
      .filter((s) => s.length > 0)
      .map(encodeURIComponent)
      .join("/");
    const headers: Record<string, string> = { ...this.#headers, "content-type": "application/octet-stream" };
    if (size !== undefined && !(body instanceof Uint8Array)) headers["content-length"] = String(size);
    await request(`${this.url}/api/2.0/mlflow-artifacts/artifacts/${encoded}`, {
      method: "PUT",
      headers,
      body,
      // Large files take longer than one API call; allow a minute per 100 MB on top of the deadline.
      timeoutMs: this.#timeoutMs + Math.floor((size ?? 0) / 100_000_000) * 60_000,
      service: "MLflow",
      what: `upload artifact ${path} of run ${run.run_id}`,
    });
  }
}
