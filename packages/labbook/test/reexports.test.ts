import * as core from "@labbook/core";
import * as internal from "@labbook/core/internal";
import { describe, expect, it } from "vitest";
import * as umbrella from "../src/index.js";

describe("the umbrella's re-exports of @labbook/core", () => {
  it("names every value core exports, the same object each", () => {
    const missing = Object.keys(core).filter((name) => !(name in umbrella));
    expect(missing).toEqual([]);
    for (const name of Object.keys(core)) expect(umbrella[name as keyof typeof umbrella], name).toBe(core[name as keyof typeof core]);
  });

  it("passes on none of core's internal plumbing", () => {
    const leaked = Object.keys(internal).filter((name) => name in umbrella);
    expect(leaked).toEqual([]);
  });
});
