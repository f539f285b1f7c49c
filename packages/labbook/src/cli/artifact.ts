import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { joinKey, LabbookError, slugify } from "@labbook/core";
import { readSlotStream } from "@labbook/core/internal";
import { readProject } from "./locations.js";
import { experimentIn } from "./suggest.js";

/** Artifacts at least this big get a progress bar (on a terminal only). */
const PROGRESS_THRESHOLD = 1024 * 1024;

async function* counting(source: AsyncIterable<Uint8Array>, onChunk: (bytes: number) => void): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    onChunk(chunk.byteLength);
    yield chunk;
  }
}

export async function artifactGet(location: string, slug: string, name: string, options: { out?: string; test?: string }): Promise<void> {
  const project = await readProject(location);
  const experiment = experimentIn(project, slug);
  let stream: AsyncIterable<Uint8Array>;
  let size: number | undefined;
  if (options.test === undefined) {
    const entry = experiment.artifacts.find((a) => a.name === name);
    if (!entry) {
      throw new LabbookError(
        "NOT_FOUND",
        `Experiment "${experiment.slug}" has no artifact named "${name}". It has: ${experiment.artifacts.map((a) => a.name).join(", ") || "none"}.`,
        { path: experiment.location },
      );
    }
    size = entry.size ?? (await project.storage.stat(joinKey(experiment.folder, entry.fname)))?.size;
    stream = await experiment.openArtifactStream(name);
  } else {
    const test = experiment.tests.find((t) => t.name === options.test);
    if (!test) throw new LabbookError("NOT_FOUND", `Experiment "${experiment.slug}" has no test named "${options.test}".`, { path: experiment.location });
    const entry = test.artifacts.find((a) => a.name === name);
    if (!entry) throw new LabbookError("NOT_FOUND", `Test "${test.name}" of experiment "${experiment.slug}" has no artifact named "${name}".`);
    const key = joinKey(experiment.folder, slugify(test.name), entry.fname);
    size = entry.size ?? (await project.storage.stat(key))?.size;
    stream = await readSlotStream(project.storage, entry, key);
  }

  await deliver(stream, { size, label: name, out: options.out });
}

function outError(out: string, target: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const folder = path.dirname(target);
  const where = { path: target, cause: error };
  switch (code) {
    case "EISDIR":
      return new LabbookError("INVALID_ARGUMENT", `--out ${out} is a folder; name a file, for example --out ${path.join(out, "artifact.bin")}.`, where);
    case "ENOENT":
    case "ENOTDIR":
      return new LabbookError(
        "INVALID_ARGUMENT",
        `--out ${out}: the folder ${folder} does not exist; create it first (mkdir -p ${folder}) or choose another path.`,
        where,
      );
    case "EROFS":
      return new LabbookError("STORAGE", `Cannot write --out ${out}: ${folder} is on a read-only file system; choose a writable folder.`, where);
    case "EACCES":
    case "EPERM":
      return new LabbookError("STORAGE", `Cannot write --out ${out}: permission denied in ${folder} (${code}); choose a folder you can write.`, where);
    case "ENOSPC":
    case "EDQUOT":
      return new LabbookError("STORAGE", `Cannot write --out ${out}: the disk is full (${code}); nothing was written to ${target}.`, where);
    default:
      return error;
  }
}

/**
 * Write to `out` atomically and safely in a hostile folder: the bytes go to a temp file with an
 * unpredictable name created exclusively ("wx" never follows or reuses a planted file or symlink)
 * beside the target, which is then renamed over the target (a symlink at the target is replaced,
 * not followed). A failed download leaves nothing behind.
 */
async function writeOut(source: Readable, out: string): Promise<void> {
  const target = path.resolve(out);
  const isFolder = await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isFolder) throw outError(out, target, Object.assign(new Error(`${target} is a folder`), { code: "EISDIR" }));
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(12).toString("hex")}.partial`);
  let handle: FileHandle;
  try {
    handle = await open(partial, "wx", 0o666);
  } catch (error) {
    throw outError(out, target, error);
  }
  try {
    await pipeline(source, handle.createWriteStream());
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw outError(out, target, error);
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Write a stream of artifact bytes to stdout (default) or a file, with a progress bar on stderr
 * when it is a terminal and the artifact is large. A file is written beside the target and renamed
 * at the end, so a failed or corrupt download leaves nothing behind.
 */
export async function deliver(stream: AsyncIterable<Uint8Array>, options: { size: number | undefined; label: string; out: string | undefined }): Promise<void> {
  const { size, label: name } = options;
  let bar: { update(n: number): void; stop(): void } | undefined;
  if (process.stderr.isTTY && size !== undefined && size >= PROGRESS_THRESHOLD) {
    // Loaded only when a bar is drawn, to keep startup light.
    const { default: progress } = await import("cli-progress");
    const b = new progress.SingleBar(
      {
        stream: process.stderr,
        format: `${name} [{bar}] {percentage}% {value}/{total} MB`,
        // Byte counts in megabytes (10^6 bytes), one decimal: 3.1/3.1 MB rather than 3145745/3145745.
        formatValue: (value: number, _options: unknown, type: string) => (type === "value" || type === "total" ? (value / 1e6).toFixed(1) : String(value)),
        hideCursor: true,
      },
      progress.Presets.shades_classic,
    );
    b.start(size, 0);
    bar = b;
  }
  let done = 0;
  const source = Readable.from(
    counting(stream, (n) => {
      done += n;
      bar?.update(done);
    }),
  );
  try {
    if (options.out === undefined) {
      await pipeline(source, process.stdout as Writable, { end: false });
    } else {
      await writeOut(source, options.out);
    }
  } finally {
    bar?.stop();
  }
  if (options.out !== undefined) process.stderr.write(`Wrote ${done} bytes to ${path.resolve(options.out)}\n`);
}
