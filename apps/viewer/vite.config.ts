import { defineConfig } from "vite";

// Preact's JSX runtime without a plugin; no inline scripts or styles (the server's CSP forbids them),
// so the module-preload polyfill (an inline helper in older browsers) is off.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
});
