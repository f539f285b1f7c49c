#!/usr/bin/env node
/**
 * The `labbook` command. Only commander is loaded up front; each command imports its module (and
 * through it the library and storage adapters) when it runs, so `labbook --help` stays fast.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { registerExport } from "./cli/export.js";
import { cliContext, escapeControls } from "./cli/output.js";

/** Where the docs live for someone who installed the package (the repository's docs folder). */
const DOCS = "https://github.com/labbook/labbook/blob/main/docs";
const EXIT_OK = 0;
const EXIT_ERROR = 1;
const EXIT_USAGE = 2;

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

const program = new Command("labbook")
  .description("Look at, compare and move labbook (lazyscribe-compatible) experiments and artifacts.\nLocations: a path, a file:// URL or an s3:// URL.")
  .version(version(), "-V, --version")
  .option("--debug", "print stack traces and error causes")
  .option("--registry <file>", "a labbook.registry.json: its project and repository names work as locations (default: $LABBOOK_REGISTRY)")
  .exitOverride()
  .showHelpAfterError("(run with --help for usage)")
  .addHelpText(
    "after",
    `
Exit codes: 0 ok, 1 error, 2 bad usage. Every listing takes --json.
Docs: ${DOCS}/cli.md (every command and its JSON shapes), ${DOCS}/labbook.md (the library).`,
  );

program.hook("preAction", () => {
  cliContext.registryFile = (program.opts().registry as string | undefined) ?? process.env.LABBOOK_REGISTRY;
});

const json = () => new Option("--json", "print JSON for scripts (shapes in the docs: labbook --help)");

program
  .command("ls")
  .description("list the experiments of a project")
  .argument("<project>", "project location (folder, project.json, file:// or s3:// URL)")
  .option("-f, --filter <expression>", 'keep experiments matching, e.g. "metrics.auc > 0.9 and tags has baseline"')
  .option("-s, --sort <fields>", "sort by fields, comma-separated; prefix - for descending, e.g. -metrics.auc")
  .option("-c, --columns <fields>", "columns after slug, created, author and tags, e.g. metrics.auc,parameters.lr")
  .option("-n, --limit <n>", "show at most n experiments (after filter and sort)")
  .addOption(json())
  .action(async (location: string, options) => {
    const { ls } = await import("./cli/ls.js");
    await ls(location, options);
  });

program
  .command("show")
  .description("everything about one experiment: metrics, parameters, tags, tests, artifacts, dependencies")
  .argument("<project>", "project location")
  .argument("<slug>", "experiment slug or short slug (the latest of that name)")
  .addOption(json())
  .action(async (location: string, slug: string, options) => {
    const { show } = await import("./cli/show.js");
    await show(location, slug, options);
  });

program
  .command("compare")
  .description("parameters and metrics of experiments side by side; differing rows are marked *")
  .argument("<project>", "project location")
  .argument("<slugs...>", "two or more experiment slugs or short slugs")
  .option("-d, --differences", "only rows that differ")
  .addOption(json())
  .action(async (location: string, slugs: string[], options) => {
    const { compare } = await import("./cli/compare.js");
    await compare(location, slugs, options);
  });

const artifact = program.command("artifact").description("artifact files of experiments");
artifact
  .command("get")
  .description("write an artifact's stored bytes to stdout or a file")
  .argument("<project>", "project location")
  .argument("<slug>", "experiment slug or short slug")
  .argument("<name>", "artifact name")
  .option("-o, --out <file>", "write to this file instead of stdout")
  .option("-t, --test <name>", "an artifact of this test of the experiment")
  .action(async (location: string, slug: string, name: string, options) => {
    const { artifactGet } = await import("./cli/artifact.js");
    await artifactGet(location, slug, name, options);
  });

program
  .command("merge")
  .description("merge projects into one; artifact files are copied into the target's folder")
  .argument("<a>", "project location")
  .argument("<b>", "project location")
  .argument("[more...]", "more project locations")
  .requiredOption("--into <project>", "target project location (its own experiments, if any, are kept)")
  .addOption(json())
  .action(async (a: string, b: string, more: string[], options) => {
    const { merge } = await import("./cli/merge.js");
    await merge([a, b, ...more], options.into, options);
  });

program
  .command("gc")
  .description("list (or --delete) files under a project's folder that no index names")
  .argument("<project>", "project location")
  .option("--delete", "remove the listed files")
  .option("--min-age <seconds>", "leave files younger than this alone (a save may be in progress)", "3600")
  .addOption(json())
  .action(async (location: string, options) => {
    const { gc } = await import("./cli/gc.js");
    await gc(location, options);
  });

program
  .command("deps")
  .description("the dependency tree of a project's experiments, across projects (resolved with --registry)")
  .argument("<project>", "project location or registered name")
  .addOption(json())
  .action(async (location: string, options) => {
    const { deps } = await import("./cli/deps.js");
    await deps(location, options);
  });

const repo = program.command("repo").description("versioned artifact repositories (repository.json) and their releases");
repo
  .command("ls")
  .description("artifact names with their latest version")
  .argument("<repository>", "repository location (folder, repository.json, file:// or s3:// URL)")
  .addOption(json())
  .action(async (location: string, options) => {
    const { repoLs } = await import("./cli/repo.js");
    await repoLs(location, options);
  });
repo
  .command("history")
  .description("every version of one artifact with dates and expiry")
  .argument("<repository>", "repository location")
  .argument("<name>", "artifact name")
  .addOption(json())
  .action(async (location: string, name: string, options) => {
    const { repoHistory } = await import("./cli/repo.js");
    await repoHistory(location, name, options);
  });
repo
  .command("get")
  .description("write one version's bytes (the latest unexpired by default) to stdout or a file")
  .argument("<repository>", "repository location")
  .argument("<name>", "artifact name")
  // Not --version: that is the program's own flag, recognised anywhere on the line.
  .option("--at <version>", "a version number, or a date: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)")
  .option("--asof", "with a date: the latest version created at or before it")
  .option("-o, --out <file>", "write to this file instead of stdout")
  .action(async (location: string, name: string, options) => {
    const { repoGet } = await import("./cli/repo.js");
    await repoGet(location, name, options);
  });
repo
  .command("promote")
  .description("copy an experiment's artifact into the repository as the next version of that name")
  .argument("<repository>", "repository location (created when missing)")
  .argument("<project>", "project location")
  .argument("<slug>", "experiment slug or short slug")
  .argument("<name>", "artifact name")
  .addOption(json())
  .action(async (location: string, project: string, slug: string, name: string, options) => {
    const { repoPromote } = await import("./cli/repo.js");
    await repoPromote(location, project, slug, name, options);
  });
repo
  .command("release")
  .description("with a tag: pin the latest version of every artifact as a release; without: list releases")
  .argument("<repository>", "repository location")
  .argument("[tag]", "tag of the release to create")
  .addOption(json())
  .action(async (location: string, tag: string | undefined, options) => {
    const { repoRelease } = await import("./cli/repo.js");
    await repoRelease(location, tag, options);
  });
repo
  .command("diff")
  .description("unified diff between two text versions (or a version and the latest)")
  .argument("<repository>", "repository location")
  .argument("<name>", "artifact name")
  .argument("<a>", "version number or date")
  .argument("[b]", "version number or date (default: the latest)")
  .option("--asof", "dates pick the latest version created at or before them")
  .action(async (location: string, name: string, a: string, b: string | undefined, options) => {
    const { repoDiff } = await import("./cli/repo.js");
    await repoDiff(location, name, a, b, options);
  });

registerExport(program);
program
  .command("run")
  .description("run a pipeline experiment: stages cached by parameter hash, logged as a labbook experiment")
  .argument("<module>", "experiment module (default export: defineExperiment(...))")
  .option("-p, --params <file or name>", "parameter file (.json or module) or named parameter set; repeatable", (v: string, p: string[] = []) => [...p, v])
  .option("--data <location>", "folder or s3:// URL for the cache, runs/, reports/ and project.json", "data")
  .option("--project <location>", "log runs to this project instead of <data>/project.json")
  .option("--cache-dir <dir>", "cache folder inside --data", "cache")
  .option("--overwrite", "recompute every stage")
  .option("--overwrite-stage <name>", "recompute this stage; repeatable", (v: string, p: string[] = []) => [...p, v])
  .option("--dry", "print what would run and what is cached; run and write nothing")
  .option("--hashes", "print each parameter set's hash and exit")
  .option("--parallel <n>", "spread parameter sets over n worker processes")
  .option("--store-full", "copy outputs, parameters and environment into <data>/runs/<name>_<n>_<timestamp>/")
  .option("--no-report", "skip the HTML report")
  .option("--notes <text>", "notes kept with the run")
  .action(async (module: string, options) => (await import("./cli/run.js")).run(module, options));

program
  .command("ui")
  .description("serve a read-only web page to browse, compare and plot experiments and repositories (127.0.0.1 only)")
  .argument("<location>", "project, repository or registry file (or a folder holding one)")
  .option("-p, --port <port>", "port (default: a free one)")
  .option("--host <address>", "address to bind (default 127.0.0.1; others need --allow-remote)")
  .option("--allow-remote", "allow a non-loopback --host (prints a warning: there is no login)")
  .option("--open", "open the page in a browser")
  .action(async (location: string, options) => (await import("./cli/ui.js")).ui(location, options));

function debugRequested(): boolean {
  return program.opts().debug === true || process.argv.includes("--debug");
}

/** Print an error: its message and code, or with --debug its stack and cause; never a stack without --debug. */
function report(error: unknown): Error & { code?: unknown } {
  const err = (error instanceof Error ? error : new Error(String(error))) as Error & { code?: unknown };
  if (debugRequested()) {
    console.error(err.stack ?? String(err));
    if (err.cause) console.error("Caused by:", err.cause);
  } else {
    const code = err.name === "LabbookError" && typeof err.code === "string" ? ` [${err.code}]` : "";
    const message = `labbook: ${err.message ?? String(err)}${code}`;
    // Messages quote names from files; on a terminal their control characters are shown, not obeyed.
    console.error(process.stderr.isTTY ? escapeControls(message) : message);
  }
  return err;
}

async function main(): Promise<number> {
  // Failures outside the command's promise (a stream's late error) are reported the same way.
  const crash = (error: unknown) => {
    report(error);
    process.exit(EXIT_ERROR);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
  // `labbook ls … | head` closes the pipe early; that is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT_OK);
    throw error;
  });
  try {
    await program.parseAsync(process.argv);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" are fine; everything else commander reports is bad usage.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const err = report(error);
    if (err.name === "UsageError") {
      console.error("(run with --help for usage)");
      return EXIT_USAGE;
    }
    return EXIT_ERROR;
  }
}

process.exitCode = await main();
