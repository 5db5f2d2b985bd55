import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** The portal, built into web/dist and served by the gateway at `/`; `npm run web:dev` proxies the API. */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: { proxy: { "^/(?!src|@|node_modules|assets).+": "http://127.0.0.1:8080" } },
});
