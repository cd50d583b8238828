import { defineConfig } from 'vitest/config';
import type { Plugin, Rolldown } from 'vite';
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

// lazyShared names the one chunk beside the entry for the lazy pages: the
// code two or more of them use (Vant, the verification views) and every
// stylesheet of theirs, so a page opened by a link loads the entry, its
// stylesheet, this chunk, its stylesheet and the page's own code: with the
// session check, six requests. (The entry's own modules are taken by the
// "app" group first.) jsQR and the WeChat JS-SDK stay chunks of their own.
function lazyShared(id: string, ctx: Rolldown.ChunkingContext): string | null {
  if (/node_modules[\\/](jsqr|weixin-js-sdk)[\\/]/.test(id)) return null;
  if (/\.css$|[?&]type=style\b/.test(id)) return 'shared';
  // The lazily loaded modules (the pages) that reach this one by static imports.
  const roots = new Set<string>();
  const seen = new Set<string>();
  const walk = (m: string): void => {
    if (seen.has(m)) return;
    seen.add(m);
    const info = ctx.getModuleInfo(m);
    if (!info) return;
    if (info.dynamicImporters.length) roots.add(m);
    info.importers.forEach(walk);
  };
  walk(id);
  return roots.size >= 2 ? 'shared' : null;
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
    // fit in one wave. The two pages people open from the WeChat menu (the
    // licence list and the scan page) are in the entry with Vue and the
    // router and use no Vant, so their wave is the entry, its stylesheet and
    // their data. Every other page is a chunk of its own; what two or more
    // of them share beyond the entry (Vant, the verification views) and all
    // their styles are one more chunk and one stylesheet, fetched with the
    // first of them (lazyShared). jsQR and the WeChat JS-SDK stay apart:
    // they load only when an officer starts a scan.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            // The entry's static imports stay in the entry chunk: without this
            // the bundler puts what the entry and the pages both import (Vue,
            // the API client) into chunks of their own, more requests.
            { name: 'app', tags: ['$initial'], priority: 2 },
            { name: lazyShared, priority: 1 },
          ],
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
