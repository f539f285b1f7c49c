/**
 * `labbook export <project> --to mlflow|wandb`: send a project's experiments to a tracking server.
 * Registered by cli.ts through registerExport; the library is imported only when the command runs.
 */
import { type Command, Option } from "commander";
import { print, printJson, UsageError } from "./output.js";

export interface ExportCommandOptions {
  to: string;
  filter?: string;
  dryRun?: boolean;
  json?: boolean;
  experiment?: string;
  trackingUri?: string;
  recreateDeleted?: boolean;
  timeout?: string;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("send a project's experiments to MLflow or W&B (again: updates the same runs)")
    .argument("<project>", "project location or registered name")
    .addOption(new Option("--to <backend>", "where to: mlflow or wandb").choices(["mlflow", "wandb"]).makeOptionMandatory())
    .option("-f, --filter <expression>", 'only experiments matching, e.g. "tags has final"')
    .option("--dry-run", "say what would be created, updated or unchanged, sending nothing")
    .option("--experiment <name>", 'the MLflow experiment or W&B project to log to (default "labbook", or $WANDB_PROJECT)')
    .option("--tracking-uri <url>", "the MLflow server (default: $MLFLOW_TRACKING_URI) or W&B's API (default: $WANDB_BASE_URL)")
    .option("--recreate-deleted", "make a new run for one deleted in MLflow since the last export (default: stop)")
    .option("--timeout <ms>", "time one request may take (default 30000)")
    .addOption(new Option("--json", "print the summary as JSON (shape in docs/cli.md)"))
    .action(async (location: string, options: ExportCommandOptions) => {
      await runExport(location, options);
    });
}

interface Bar {
  update(n: number, payload?: object): void;
  stop(): void;
}

async function progressBar(total: number): Promise<Bar | undefined> {
  if (!process.stderr.isTTY || total < 2) return undefined;
  const { default: progress } = await import("cli-progress");
  const bar = new progress.SingleBar(
    { stream: process.stderr, format: "export [{bar}] {value}/{total} {slug}", hideCursor: true, clearOnComplete: true },
    progress.Presets.shades_classic,
  );
  bar.start(total, 0, { slug: "" });
  return bar;
}

export async function runExport(location: string, options: ExportCommandOptions): Promise<void> {
  const timeoutMs = options.timeout === undefined ? undefined : Number(options.timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new UsageError(`--timeout takes milliseconds, a positive whole number, not ${JSON.stringify(options.timeout)}.`);
  }
  const [{ exportProject }, { readProject }, { compileFilter }] = await Promise.all([
    import("@labbook/tracking"),
    import("./locations.js"),
    import("../filter-expression.js"),
  ]);
  let predicate: ((e: import("@labbook/core").Experiment) => boolean) | undefined;
  try {
    predicate = options.filter === undefined ? undefined : compileFilter(options.filter);
  } catch (error) {
    throw new UsageError(`--filter: ${(error as Error).message}`);
  }
  const project = await readProject(location);
  const total = predicate ? project.experiments.filter(predicate).length : project.size;
  const bar = options.json ? undefined : await progressBar(total);
  let summary: Awaited<ReturnType<typeof exportProject>>;
  try {
    const common = {
      filter: predicate,
      dryRun: options.dryRun === true,
      timeoutMs,
      onProgress: (p: { done: number; slug: string }) => bar?.update(p.done, { slug: p.slug }),
    };
    summary =
      options.to === "wandb"
        ? await exportProject(project, { ...common, backend: "wandb", project: options.experiment, baseUrl: options.trackingUri })
        : await exportProject(project, {
            ...common,
            backend: "mlflow",
            experimentName: options.experiment,
            trackingUri: options.trackingUri,
            onDeletedRun: options.recreateDeleted ? "recreate" : "error",
          });
  } finally {
    bar?.stop();
  }
  if (options.json) {
    printJson(summary);
    return;
  }
  const verb = summary.dryRun ? "Would export" : "Exported";
  print(
    `${verb} ${summary.runs.length} experiment(s) to ${summary.target}: ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged.`,
  );
  for (const run of summary.runs) {
    for (const note of [...run.notes, ...(run.tests ?? []).flatMap((t) => t.notes.map((n) => `test ${t.slug}: ${n}`))]) print(`  ${run.slug}: ${note}`);
  }
}
