// The published types of @labbook/pipeline and @labbook/registry (built with stripInternal): each
// `@ts-expect-error` line fails the type-check as soon as an internal member is published again,
// and a Registry still passes as the `registry` of Project.open (core's DependencyResolver).
import { MemoryStorage, Project } from "@labbook/core";
import type { PipelineRecord } from "@labbook/pipeline";
import type { Registry } from "@labbook/registry";

export function pipelineRecord(record: PipelineRecord): void {
  // @ts-expect-error setLazy is internal
  record.setLazy("x", "stage", "key", async () => 1);
  // @ts-expect-error keyOf is internal
  record.keyOf("x");
  // @ts-expect-error hashOf is internal
  record.hashOf("x");
  // @ts-expect-error runAggregate is internal
  record.runAggregate;
  record.set("x", 1);
}

export async function registryAsResolver(registry: Registry): Promise<Project> {
  return Project.open("project.json", { storage: new MemoryStorage(), mode: "r", registry });
}
