import { describe, expect, it } from "vitest";
import { renderGrid } from "../src/index.js";

describe("renderGrid", () => {
  const head = ["name", "tags"];
  const rows = [
    ["café 🔥", "a, b"],
    ["x", ""],
  ];

  it("plain: columns two spaces apart, padded by display width, no trailing spaces", () => {
    expect(renderGrid(head, rows, { style: "plain" })).toBe(["name     tags", "café 🔥  a, b", "x"].join("\n"));
  });

  it("box: lines around the header and the table", () => {
    expect(renderGrid(head, rows, { style: "box" })).toBe(
      ["┌─────────┬──────┐", "│ name    │ tags │", "├─────────┼──────┤", "│ café 🔥 │ a, b │", "│ x       │      │", "└─────────┴──────┘"].join("\n"),
    );
  });

  it("ascii: the same with + - |; newlines in cells never break a row", () => {
    expect(renderGrid(["a"], [["two\nlines"]], { style: "ascii" })).toBe(
      ["+------------+", "| a          |", "+------------+", "| two\\nlines |", "+------------+"].join("\n"),
    );
  });
});
