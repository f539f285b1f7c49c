import { ArtifactCollection, type ArtifactContext, createSlot, type LogArtifactOptions, splitLogOptions } from "./artifacts/collection.js";
import { LabbookError } from "./errors.js";
import { checkStep, type LogMetricOptions, MetricHistory, type MetricHistoryFile, type MetricPoint } from "./metric-history.js";
import type { ReadonlyTestRecord } from "./readonly.js";
import type { TestRecord } from "./schemas.js";
import { slugify } from "./slug.js";
import { joinKey } from "./storage.js";

/** Where a test lives and whether it may change; supplied by its experiment. */
export interface TestHost {
  readonly context: ArtifactContext;
  /** The experiment's folder key. */
  folder(): string;
  /** Throws READ_ONLY when the experiment is frozen; marks it changed otherwise (its last_updated stays, as in lazyscribe). */
  touch(what: string): void;
  readonly label: string;
  /** The experiment's clock. */
  now(): Date;
}

/**
 * A named population inside an experiment (lazyscribe's Test): its own metrics, parameters and
 * artifacts, stored in `<experiment folder>/<slug(test name)>/`.
 */
export class Test {
  /** @internal */
  readonly record: TestRecord;
  /** @internal */
  readonly artifactSet: ArtifactCollection;
  #history: MetricHistory | undefined;

  /** Not callable: create tests with `experiment.logTest()` (see the Experiment constructor for why it is here). */
  constructor(useLogTest: never, host: never);
  /** @internal */
  constructor(record: TestRecord, host: TestHost);
  constructor(
    record: TestRecord,
    private readonly host: TestHost,
  ) {
    this.record = record;
    this.artifactSet = new ArtifactCollection(record.artifacts, () => joinKey(host.folder(), slugify(record.name)));
  }

  get name(): string {
    return this.record.name;
  }
  get description(): string | null {
    return this.record.description;
  }
  get metrics(): Readonly<Record<string, number>> {
    return this.record.metrics;
  }
  get parameters(): Readonly<Record<string, unknown>> {
    return this.record.parameters;
  }
  get artifacts(): ReadonlyArray<Readonly<TestRecord["artifacts"][number]>> {
    return this.record.artifacts;
  }
  /** The stored record as it is now, read-only (the live record, not a copy). */
  toRecord(): ReadonlyTestRecord {
    return this.record;
  }

  private touch(what: string): void {
    this.host.touch(`${what} on test "${this.name}"`);
  }

  /** Log a metric; with `{ step }` the value also joins the metric's history (see metricHistory). */
  logMetric(name: string, value: number, options: LogMetricOptions = {}): void {
    this.touch("logMetric");
    assertMetric(name, value);
    const at = checkStep(name, options);
    this.record.metrics[name] = value;
    if (at) this.#metricHistory().append(name, value, at.step, at.time);
  }

  #metricHistory(): MetricHistory {
    this.#history ??= new MetricHistory({
      context: this.host.context,
      artifacts: () => this.artifactSet,
      setEntries: (entries) => {
        this.record.artifacts = entries;
      },
      label: `test "${this.name}" of ${this.host.label}`,
      now: () => this.host.now(),
    });
    return this.#history;
  }

  /** The values of `name` logged with a step, oldest first; empty when it has none. */
  metricHistory(name: string): Promise<MetricPoint[]> {
    return this.#metricHistory().series(name);
  }

  /** Every metric history of this test, columnar. */
  async metricHistories(): Promise<MetricHistoryFile["metrics"]> {
    return (await this.#metricHistory().all()).metrics;
  }

  /** @internal Before a save: write appended history points into the test's artifact. */
  async prepareHistory(): Promise<void> {
    await this.#history?.prepareSave();
  }

  logParameter(name: string, value: unknown): void {
    this.touch("logParameter");
    this.record.parameters[name] = value;
  }

  /** Log an artifact of this test; written on the next save. */
  logArtifact(name: string, value: unknown, options: LogArtifactOptions): void {
    this.touch("logArtifact");
    const { handler, fname, overwrite, writerOptions } = splitLogOptions(options);
    const slot = createSlot(this.host.context.handlers.forLog(handler, name), name, value, this.host.now(), { fname, writerOptions });
    this.record.artifacts = this.artifactSet.add(slot, overwrite, `Test "${this.name}" of ${this.host.label}`);
  }

  /** Read an artifact's value (read from storage only now, never when the project opens). */
  loadArtifact<T = unknown>(name: string): Promise<T> {
    return this.artifactSet.load(this.host.context, name, `Test "${this.name}" of ${this.host.label}`) as Promise<T>;
  }

  /** The stored bytes of an artifact as a stream. */
  openArtifactStream(name: string): Promise<AsyncIterable<Uint8Array>> {
    return this.artifactSet.openStream(this.host.context, name, `Test "${this.name}" of ${this.host.label}`);
  }
}

/** Metrics are numbers (NaN and ±Infinity included, as Python allows). */
export function assertMetric(name: string, value: unknown): void {
  if (typeof name !== "string" || name.length === 0) throw new LabbookError("INVALID_ARGUMENT", "A metric needs a non-empty name.");
  if (typeof value !== "number") {
    throw new LabbookError("INVALID_ARGUMENT", `Metric "${name}" must be a number, not ${value === null ? "null" : typeof value}.`);
  }
}
