import { describe, expect, it } from "vitest";
import { isLabbookError, LabbookError } from "../src/errors.js";

// A second module instance of errors.ts stands for a second installed copy of @labbook/core (a version
// skew between the user's core and the one a sibling package resolves). The packed-install check in
// tooling/pack does the same with two real installed copies.
const secondCopy = "../src/errors.js?second-copy";
const other = (await import(/* @vite-ignore */ secondCopy)) as typeof import("../src/errors.js");

describe("LabbookError across copies of core", () => {
  it("is a distinct class in the second copy", () => {
    expect(other.LabbookError).not.toBe(LabbookError);
  });

  it("is recognised by instanceof and isLabbookError of the other copy", () => {
    const foreign = new other.LabbookError("CONFLICT", "from the other copy");
    expect(foreign instanceof LabbookError).toBe(true);
    expect(isLabbookError(foreign)).toBe(true);
    expect(isLabbookError(foreign, "CONFLICT")).toBe(true);
    expect(isLabbookError(foreign, "NOT_FOUND")).toBe(false);
    const ours = new LabbookError("NOT_FOUND", "from this copy");
    expect(ours instanceof other.LabbookError).toBe(true);
    expect(other.isLabbookError(ours, "NOT_FOUND")).toBe(true);
  });

  it("does not recognise look-alikes", () => {
    const lookalike = Object.assign(new Error("x"), { name: "LabbookError", code: "CONFLICT" });
    expect(lookalike instanceof LabbookError).toBe(false);
    expect(isLabbookError(lookalike)).toBe(false);
    expect(isLabbookError(null)).toBe(false);
    expect(isLabbookError("CONFLICT")).toBe(false);
  });

  it("keeps the ordinary prototype check for subclasses", () => {
    class Narrow extends LabbookError {}
    expect(new Narrow("CONFLICT", "x") instanceof Narrow).toBe(true);
    expect(new LabbookError("CONFLICT", "x") instanceof Narrow).toBe(false);
    expect(new Narrow("CONFLICT", "x") instanceof LabbookError).toBe(true);
  });
});
