// What a consumer of @labbook/core can and cannot reach, checked against the published types (the
// packed tarball in tooling/pack/check-install.mjs; core's dist types in
// packages/core/test/published-types.test.ts). Each `@ts-expect-error` line fails the type-check
// as soon as the error under it disappears, for example when an internal member is published again.
import * as core from "@labbook/core";
import { Experiment, type LogArtifactOptions, MemoryStorage, Project, type ProjectMode, Test } from "@labbook/core";
import { createSlot, forEachLimit, validateFile } from "@labbook/core/internal";

export function surface(exp: Experiment, test: Test): void {
  // Mutable internals of Experiment and Test are not in the published types.
  // @ts-expect-error record is internal
  exp.record.metrics.x = 1;
  // @ts-expect-error artifactSet is internal
  exp.artifactSet;
  // @ts-expect-error dirty is internal
  exp.dirty = true;
  // @ts-expect-error committed is internal
  exp.committed = false;
  // @ts-expect-error markClean is internal
  exp.markClean();
  // @ts-expect-error a test's record is internal
  test.record;
  // The read-only views cannot be written through.
  // @ts-expect-error toRecord() is deep read-only
  exp.toRecord().metrics.x = 1;
  // @ts-expect-error its arrays too
  exp.toRecord().tags.push("x");
  // @ts-expect-error and a test's
  test.toRecord().parameters.x = 1;
  // Experiments and tests come from project.log() and experiment.logTest(), not from their constructors.
  // @ts-expect-error no public constructor
  new Experiment();
  // @ts-expect-error no public constructor
  new Test();
  // Artifact options are named fields: a typo does not compile.
  // @ts-expect-error overwirte is not an option
  exp.logArtifact("model", {}, { handler: "json", overwirte: true });
  // @ts-expect-error writer options go in writerOptions
  exp.logArtifact("model", {}, { handler: "json", indent: 2 });
  exp.logArtifact("model", {}, { handler: "json", writerOptions: { indent: 2 } });
}

// Plumbing lives on the internal subpath only.
// @ts-expect-error plumbing is not exported from @labbook/core
core.createSlot;
// @ts-expect-error plumbing is not exported from @labbook/core
core.writeSlot;
// @ts-expect-error plumbing is not exported from @labbook/core
core.readSlotBytes;
// @ts-expect-error plumbing is not exported from @labbook/core
core.readSlotStream;
// @ts-expect-error plumbing is not exported from @labbook/core
core.numberedFname;
// @ts-expect-error plumbing is not exported from @labbook/core
core.commitIndex;
// @ts-expect-error plumbing is not exported from @labbook/core
core.forEachLimit;
// @ts-expect-error plumbing is not exported from @labbook/core
core.validateFile;
// @ts-expect-error plumbing is not exported from @labbook/core
core.ArtifactCollection;
if (typeof createSlot !== "function" || typeof forEachLimit !== "function" || typeof validateFile !== "function") {
  throw new Error("@labbook/core/internal lacks its plumbing");
}

// With exactOptionalPropertyTypes a consumer forwards its own optional settings as they are.
export async function forward(settings: {
  mode?: ProjectMode | undefined;
  author?: string | undefined;
  fname?: string | undefined;
  overwrite?: boolean | undefined;
}) {
  const project = await Project.open("runs", { storage: new MemoryStorage(), mode: settings.mode, author: settings.author });
  const artifact: LogArtifactOptions = { handler: "json", fname: settings.fname, overwrite: settings.overwrite, writerOptions: undefined };
  await project.log("forwarded", (exp) => exp.logArtifact("config", { lr: 0.1 }, artifact));
  return project;
}

const project = await forward({ mode: "w", author: undefined, fname: undefined, overwrite: undefined });
const stored = project.get("forwarded").toRecord();
if (stored.artifacts.length !== 1 || stored.author.length === 0) throw new Error("forwarding undefined options changed the experiment");
console.log("core surface: internals absent from @labbook/core, plumbing on /internal, undefined options accepted");
