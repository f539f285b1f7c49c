import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// One vitest project per workspace package that has a test/ folder. Tests import packages through
// the "@labbook/source" condition, so they run against src/ without a prior build.
const roots = ["packages", "tooling", "apps"]
  .filter((dir) => existsSync(dir))
  .flatMap((dir) => readdirSync(dir).map((name) => `${dir}/${name}`))
  .filter((root) => existsSync(`${root}/test`))
  .concat(existsSync("bench/test") ? ["bench"] : []);

// Vite's default server conditions after our source condition, less "module": that one sends
// dependencies such as @aws-sdk/* to ESM builds with extensionless imports that only bundlers load.
const conditions = ["@labbook/source", "node", "development|production"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    // Says the AWS SDK's Node-version warning once, instead of once per test process.
    globalSetup: [fileURLToPath(new URL("./tooling/testing/src/global-setup.ts", import.meta.url))],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: roots.map((root) => ({
      extends: true,
      test: { name: root.split("/")[1] ?? root, root, include: ["test/**/*.test.ts"] },
    })),
  },
});
