import * as core from "@labbook/core";
import * as internal from "@labbook/core/internal";
import * as schemas from "@labbook/core/schemas";
import { describe, expect, it } from "vitest";
import * as umbrella from "../src/index.js";

describe("the umbrella's re-exports of @labbook/core", () => {
  it("names every value core exports, the same object each", () => {
    const passedOn = new Map(Object.entries(umbrella));
    const different = Object.entries(core).filter(([name, value]) => passedOn.get(name) !== value);
    expect(different.map(([name]) => name)).toEqual([]);
    expect(Object.keys(core).length).toBeGreaterThan(30);
  });

  it("names every schema of @labbook/core/schemas, the same object each", () => {
    const passedOn = new Map(Object.entries(umbrella));
    const different = Object.entries(schemas).filter(([name, value]) => passedOn.get(name) !== value);
    expect(different.map(([name]) => name)).toEqual([]);
    expect(Object.keys(schemas).length).toBe(13);
  });

  it("passes on none of core's internal plumbing", () => {
    const leaked = Object.keys(internal).filter((name) => name in umbrella);
    expect(leaked).toEqual([]);
  });
});
