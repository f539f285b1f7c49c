import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { joinKey, LabbookError, readSlotStream, slugify } from "@labbook/core";
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
      // Write beside the target and rename at the end, so a failed or corrupt download leaves nothing behind.
      const target = path.resolve(options.out);
      const partial = `${target}.${process.pid}.partial`;
      try {
        await pipeline(source, createWriteStream(partial));
        await rename(partial, target);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
    }
  } finally {
    bar?.stop();
  }
  if (options.out !== undefined) process.stderr.write(`Wrote ${done} bytes to ${path.resolve(options.out)}\n`);
}
