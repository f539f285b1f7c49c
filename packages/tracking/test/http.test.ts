/** The HTTP layer under both exporters: retries a dropped kept-alive connection, never a consumed stream. */
import { createServer } from "node:http";
import { isLabbookError } from "@labbook/core";
import { freePort } from "@labbook-internal/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "../src/http.js";

let drops = 0;
let seen = 0;
const server = createServer((req, res) => {
  seen++;
  if (drops > 0) {
    drops--;
    req.socket.destroy();
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end('{"ok":true}');
});
let url = "";
beforeAll(async () => {
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${port}/x`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const options = { method: "POST", timeoutMs: 5000, service: "MLflow", what: "test" };

describe("request", () => {
  it("sends again when the server drops the connection", async () => {
    drops = 1;
    seen = 0;
    expect(await request(url, { ...options, body: "{}" })).toEqual({ status: 200, text: '{"ok":true}' });
    expect(seen).toBe(2);
  });

  it("gives up with UNREACHABLE after three drops", async () => {
    drops = 3;
    seen = 0;
    const error = await request(url, { ...options, body: "{}" }).catch((e: unknown) => e);
    expect(isLabbookError(error, "UNREACHABLE")).toBe(true);
    expect(seen).toBe(3);
    drops = 0;
  });

  it("does not resend a streamed body", async () => {
    drops = 1;
    seen = 0;
    const body = (async function* () {
      yield new Uint8Array([1, 2, 3]);
    })();
    const error = await request(url, { ...options, method: "PUT", body }).catch((e: unknown) => e);
    expect(isLabbookError(error, "UNREACHABLE")).toBe(true);
    expect(seen).toBe(1);
    drops = 0;
  });
});
