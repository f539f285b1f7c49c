import { request } from "node:http";
import { gunzipSync } from "node:zlib";

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: () => unknown;
}

/**
 * A raw GET (or other method) to 127.0.0.1:port with the path sent exactly as given (no URL
 * normalisation, so "/../x" reaches the server as is) and the Host header we choose.
 */
export function httpGet(port: number, rawPath: string, options: { host?: string | null; method?: string; gzip?: boolean } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.host !== null) headers.Host = options.host ?? `127.0.0.1:${port}`;
    if (options.gzip) headers["Accept-Encoding"] = "gzip";
    const req = request({ host: "127.0.0.1", port, path: rawPath, method: options.method ?? "GET", headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        let body = Buffer.concat(chunks);
        if (res.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        const text = body.toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end();
  });
}
