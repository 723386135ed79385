/**
 * Builds the console's web UI into web/dist, which `nomine server` serves. Run from the repository root
 * (`npm run build:web`); `npm run dev:web` serves it with hot reload, sending /api to a console on 127.0.0.1:7480.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Charts are the heaviest part and only the overview needs them: they load in their own chunk.
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:7480' } },
});
