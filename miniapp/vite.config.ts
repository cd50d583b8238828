import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { VantResolver } from '@vant/auto-import-resolver';

// The BFF the dev server forwards API calls and the fake WeChat to.
const bff = process.env.ELICENCE_DEV_BFF ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    // Vant components are imported per use so the first screen stays small.
    Components({ resolvers: [VantResolver()], dts: 'src/components.d.ts' }),
  ],
  server: {
    proxy: {
      '/api': { target: bff },
      '/fakewx': { target: bff },
      // The console is an SPA in history mode under /console/.
      '^/console/(?!.*\\.)': {
        target: bff,
        bypass: () => '/console/index.html',
      },
      // Show-code links (/v/:token) are an SPA route: page loads get the dev
      // SPA so the route runs with hot reload; anything else goes to the BFF.
      '^/v/': {
        target: bff,
        bypass: (req) => (req.headers.accept?.includes('text/html') ? '/index.html' : undefined),
      },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    target: 'es2020',
    chunkSizeWarningLimit: 300,
  },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
    // Vant's ES build imports its CSS; let Vite handle it instead of Node.
    server: { deps: { inline: ['vant'] } },
  },
});
