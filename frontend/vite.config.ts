import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build goes straight into the Python package, which serves it at / (`retroml ui`).
// `npm run dev` proxies /api to a running `retroml ui` on port 8000.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "../src/retroml/web/static", emptyOutDir: true },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: { environment: "node", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
