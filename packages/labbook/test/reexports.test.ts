import * as core from "@labbook/core";
import * as internal from "@labbook/core/internal";
import { describe, expect, it } from "vitest";
import * as umbrella from "../src/index.js";

describe("the umbrella's re-exports of @labbook/core", () => {
  it("names every value core exports, the same object each", () => {
    const passedOn = new Map(Object.entries(umbrella));
    const different = Object.entries(core).filter(([name, value]) => passedOn.get(name) !== value);
    expect(different.map(([name]) => name)).toEqual([]);
    expect(Object.keys(core).length).toBeGreaterThan(40);
  });

  it("passes on none of core's internal plumbing", () => {
    const leaked = Object.keys(internal).filter((name) => name in umbrella);
    expect(leaked).toEqual([]);
  });
});
