/**
 * Build of the dashboard: a static bundle in dashboard/dist/ that the API server serves at `/`.
 * Everything (code, styles, world shapes) is bundled: the page loads nothing from the network
 * but its own origin. Run as `vite build dashboard` (the root is this folder).
 */
import { defineConfig } from 'vite';
export default defineConfig({
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The world shapes are one JSON chunk; no warning for it.
    chunkSizeWarningLimit: 1024,
    // The API's CSP allows only same-origin scripts: no inline module preload helper.
    modulePreload: { polyfill: false },
  },
  server: { host: '127.0.0.1' },
});
