import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { VantResolver } from '@vant/auto-import-resolver';

// Vant inlines its icon font in its stylesheet as a 25 KB data: URI (with a
// fallback on a third-party CDN that the CSP blocks anyway). There it would
// hold up every first screen; as a file of its own the browser fetches it
// only when an icon is on screen, after the page has shown. Fails the build
// if Vant stops inlining it, so this step is then removed rather than kept.
function vantIconFontFile(): Plugin {
  const inlined = /src:url\(data:font\/woff2;charset=utf-8;base64,([A-Za-z0-9+/=]+)\)\s*format\("woff2"\)[^;}]*/;
  return {
    name: 'elicence:vant-icon-font',
    apply: 'build',
    // After Vite's own CSS step, which emits the stylesheet in generateBundle.
    enforce: 'post',
    generateBundle(_options, bundle) {
      let found = false;
      for (const asset of Object.values(bundle)) {
        if (asset.type !== 'asset' || !asset.fileName.endsWith('.css')) continue;
        const css = String(asset.source);
        const m = inlined.exec(css);
        if (!m) continue;
        const ref = this.emitFile({ type: 'asset', name: 'vant-icon.woff2', source: Buffer.from(m[1], 'base64') });
        asset.source = css.replace(m[0], `src:url(/${this.getFileName(ref)})format("woff2")`);
        found = true;
      }
      if (!found) this.error('no inlined vant-icon font in the CSS: remove vantIconFontFile from vite.config.ts');
    },
  };
}

// The BFF the dev server forwards API calls and the fake WeChat to.
const bff = process.env.ELICENCE_DEV_BFF ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  plugins: [
    // Every component is <script setup> or setup(): the Options API code stays out of the bundle.
    vue({ features: { optionsAPI: false } }),
    // Vant components are imported per use so the first screen stays small.
    Components({ resolvers: [VantResolver()], dts: 'src/components.d.ts' }),
    vantIconFontFile(),
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
    // On a slow network each request costs a round trip, and a browser opens
    // only six connections to the server over HTTP/1.1: a first screen must
    // fit in one wave. So the CSS is one file, and the code every page shares
    // (Vue, the router, Vant, the app's components) is one chunk; each page
    // keeps what only it uses. jsQR and the WeChat JS-SDK stay apart: they
    // load only when an officer starts a scan.
    cssCodeSplit: false,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [{ name: 'shared', minShareCount: 2, test: (id: string) => !/node_modules[\\/](jsqr|weixin-js-sdk)[\\/]/.test(id) }],
        },
      },
    },
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
