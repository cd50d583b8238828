import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// The staff's administration console: a second front-end entry built on
// its own (root console/, served by the BFF at /console/), so it shares the
// API client's source with the H5 but never a chunk: nothing of Element
// Plus, nor a change in how the H5 is split, reaches a citizen's phone.
export default defineConfig({
  root: fileURLToPath(new URL('console', import.meta.url)),
  base: '/console/',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
    // Desktop only: Element Plus is one large chunk, loaded on a LAN.
    chunkSizeWarningLimit: 600,
  },
});
