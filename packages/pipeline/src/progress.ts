import type { StageEvent } from "./record.js";

/** Where progress goes: a terminal gets one line rewritten in place, a pipe or file gets plain lines. */
export interface ProgressSink {
  readonly isTTY?: boolean | undefined;
  write(text: string): unknown;
}

/**
 * Progress per stage. Hand-written (a few lines) rather than a progress-bar library, since it shows one
 * status line, not bars, and the pipeline package should stay light.
 */
export class StageProgress {
  readonly #sink: ProgressSink;
  readonly #total: number;
  #done = 0;
  #open = false;

  constructor(sink: ProgressSink, total: number) {
    this.#sink = sink;
    this.#total = total;
  }

  event(event: StageEvent): void {
    if (event.type === "stage-start") {
      if (this.#sink.isTTY) this.#status(`${event.record} › ${event.stage} …`);
      return;
    }
    this.#done++;
    const ms = event.durationMs === undefined ? "" : ` ${Math.round(event.durationMs)} ms`;
    const line = `[${this.#done}/${this.#total}] ${event.record} ${event.stage} ${event.status}${ms}`;
    if (this.#sink.isTTY) this.#status(line);
    else this.#sink.write(`${line}\n`);
  }

  #status(text: string): void {
    this.#sink.write(`\r\x1b[K${text}`);
    this.#open = true;
  }

  /** End the status line on a terminal. */
  finish(): void {
    if (this.#open) this.#sink.write("\n");
    this.#open = false;
  }
}
