import { defineConfig } from 'vite';

/**
 * The operator dashboard (issue 13): built into dashboard/dist and served by the API at /dashboard
 * (lib/http/routes/dashboard.ts). `npm run dev:dashboard` serves it with live reload and sends
 * /api to the local stack (`npm start`, PORT 3000 unless API_URL says otherwise).
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/dashboard/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One entry, no lazy chunks: the preload polyfill would be dead weight.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': process.env.API_URL ?? 'http://127.0.0.1:3000' },
  },
});
