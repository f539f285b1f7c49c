import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
// Relative import (not the package): @labbook-internal/testing depends on @labbook/core, and a
// devDependency back would make a package cycle.
import { findPython, repoRoot, runPython } from "../../../tooling/testing/src/python.js";
import { slugify } from "../src/slug.js";

const script = path.join(repoRoot, "tooling/python/gen_slugs.py");
const golden = JSON.parse(readFileSync(new URL("./fixtures/slugs.json", import.meta.url), "utf8")) as [string, string][];
const python = findPython();

describe("slugify matches python-slugify", () => {
  it("has a golden list of at least 60 names", () => {
    expect(golden.length).toBeGreaterThanOrEqual(60);
  });

  it.each(golden)("slugify(%j) === %j", (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it.skipIf(python === undefined)("the committed golden list is what python-slugify gives now", async () => {
    const live = JSON.parse(await runPython(script, [])) as [string, string][];
    expect(live).toEqual(golden);
  });

  it.skipIf(python === undefined)("every code point Python knows slugifies the same between two letters", async () => {
    const cases = JSON.parse(await runPython(script, ["--code-points"])) as [number, string, string][];
    expect(cases.length).toBeGreaterThan(50_000);
    const wrong: string[] = [];
    for (const [cp, slug, referenceSlug] of cases) {
      const got = slugify(`a${String.fromCodePoint(cp)}b`);
      if (got !== slug) wrong.push(`U+${cp.toString(16).toUpperCase()}: python ${JSON.stringify(slug)}, labbook ${JSON.stringify(got)}`);
      const viaReference = slugify(`a&#${cp};b`);
      if (viaReference !== referenceSlug) wrong.push(`&#${cp};: python ${JSON.stringify(referenceSlug)}, labbook ${JSON.stringify(viaReference)}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("slugify rules", () => {
  it("turns apostrophes between letters into a separator, like python-slugify's legacy pipeline", () => {
    expect(slugify("don't")).toBe("don-t");
  });

  it("decodes entities after transliteration, so a decoded accent becomes a separator", () => {
    expect(slugify("caf&#233;s")).toBe("cafe-s");
    expect(slugify("caf\u00e9s")).toBe("cafes");
  });

  it("leaves every decimal reference alone when one is past U+10FFFF", () => {
    expect(slugify("&#1114112; &#65;")).toBe("1114112-65");
    expect(slugify("&#65;")).toBe("a");
  });

  it("drops commas between digits only", () => {
    expect(slugify("1,000 and a,b")).toBe("1000-and-a-b");
  });

  it("gives the same slug for NFC and NFD input", () => {
    expect(slugify("M\u00fcnchen")).toBe(slugify("Mu\u0308nchen"));
  });
});
