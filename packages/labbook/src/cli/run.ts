import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { PipelineExperiment } from "@labbook/pipeline";
import { openProject, resolveLocation } from "../open.js";
import { positiveInt, UsageError } from "./output.js";

export interface RunCommandOptions {
  params?: string[];
  data?: string;
  project?: string;
  cacheDir?: string;
  overwrite?: boolean;
  overwriteStage?: string[];
  dry?: boolean;
  hashes?: boolean;
  parallel?: string;
  storeFull?: boolean;
  report?: boolean;
  notes?: string;
}

const MODULE_EXTENSIONS = /\.(m|c)?(j|t)s$/;

let tsxRegistered = false;

/** Node 20 cannot load TypeScript by itself: register tsx (when installed) the first time a .ts module comes. */
async function registerTypeScript(file: string, what: string): Promise<void> {
  if (tsxRegistered) return;
  let api: { register: () => unknown };
  try {
    api = (await import("tsx/esm/api")) as { register: () => unknown };
  } catch (cause) {
    throw new UsageError(
      `Cannot load ${what} ${file}: TypeScript modules need the package tsx (npm install --save-dev tsx), or write the module in JavaScript.`,
      {
        cause,
      },
    );
  }
  api.register();
  tsxRegistered = true;
}

async function importModule(file: string, what: string, retried = false): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file);
  // Node remembers a failed import of a URL: the retry after registering tsx asks for a fresh one.
  if (retried) url.search = "?labbook-tsx";
  try {
    return (await import(url.href)) as Record<string, unknown>;
  } catch (cause) {
    if (!retried && (cause as { code?: string }).code === "ERR_UNKNOWN_FILE_EXTENSION" && /\.(m|c)?ts$/.test(file)) {
      await registerTypeScript(file, what);
      return importModule(file, what, true);
    }
    throw new UsageError(`Cannot load ${what} ${file}: ${(cause as Error).message}`, { cause });
  }
}

function asSets(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** Parameter sets from a file (.json, or a module whose default export is a set, a list or a function returning them) or a set name. */
async function loadParameters(
  experiment: PipelineExperiment,
  specs: readonly string[],
): Promise<{ sets: Array<{ set: unknown; source: string }>; files: Array<{ name: string; content: string }> }> {
  const sets: Array<{ set: unknown; source: string }> = [];
  const files: Array<{ name: string; content: string }> = [];
  const named = experiment.parameterSets;
  const chosen = specs.length > 0 ? specs : Object.keys(named);
  if (chosen.length === 0) throw new UsageError(`No parameter sets: pass -p <file or name> (experiment "${experiment.name}" names none of its own).`);
  for (const spec of chosen) {
    const file = path.resolve(spec);
    if (Object.hasOwn(named, spec) && !existsSync(file)) {
      for (const set of asSets(named[spec])) sets.push({ set, source: `parameter set "${spec}"` });
      continue;
    }
    if (!existsSync(file)) {
      const names = Object.keys(named);
      throw new UsageError(
        `-p ${spec}: no such file, and experiment "${experiment.name}" has no parameter set of that name${names.length ? ` (it has: ${names.join(", ")})` : ""}.`,
      );
    }
    const content = readFileSync(file, "utf8");
    files.push({ name: file, content });
    let value: unknown;
    if (file.endsWith(".json")) {
      try {
        value = JSON.parse(content);
      } catch (cause) {
        throw new UsageError(`-p ${spec}: not valid JSON: ${(cause as Error).message}`);
      }
    } else if (MODULE_EXTENSIONS.test(file)) {
      const mod = await importModule(file, "parameter module");
      value = typeof mod.default === "function" ? await (mod.default as () => unknown)() : mod.default;
    } else {
      throw new UsageError(`-p ${spec}: parameter files are .json or a JavaScript/TypeScript module.`);
    }
    for (const set of asSets(value)) sets.push({ set, source: spec });
  }
  return { sets, files };
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** `labbook run <experiment module> -p ...`: run a pipeline experiment (see docs/pipeline.md). */
export async function run(modulePath: string, options: RunCommandOptions): Promise<void> {
  const { runPipeline } = await import("@labbook/pipeline");
  const file = path.resolve(modulePath);
  if (!existsSync(file)) throw new UsageError(`No experiment module at ${file}.`);
  const mod = await importModule(file, "experiment module");
  const experiment = (mod.default ?? mod.experiment) as PipelineExperiment | undefined;
  if (experiment?.kind !== "pipeline-experiment") {
    throw new UsageError(`${modulePath} does not export a pipeline experiment: export default defineExperiment({...}) from it.`);
  }
  const parallel = options.parallel === undefined ? 1 : positiveInt(options.parallel, "--parallel");
  const { sets, files } = await loadParameters(experiment, options.params ?? []);
  const readOnly = options.dry === true || options.hashes === true;
  const data = await resolveLocation(options.data ?? "data", "project.json", readOnly ? {} : { mode: "a" });
  const argv = process.argv.slice(process.argv.indexOf("run") + 1);
  await runPipeline({
    experiment,
    parameterSets: sets,
    parameterFiles: files,
    data: data.storage,
    cacheDir: options.cacheDir,
    openProject: options.project ? () => openProject(options.project as string, { mode: "a" }) : undefined,
    overwrite: options.overwrite,
    overwriteStages: options.overwriteStage,
    dry: options.dry,
    hashes: options.hashes,
    parallel,
    storeFull: options.storeFull,
    report: options.report,
    notes: options.notes,
    command: `labbook run ${argv.map(quote).join(" ")}`,
    modulePath: file,
  });
}
