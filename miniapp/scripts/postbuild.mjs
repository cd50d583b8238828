// After `vite build`: (1) index.html gets the boot script (boot.mjs) with
// the entry's stylesheet, the chunks and stylesheets of each route and the
// API calls its first screen makes, so the browser asks for all of them
// while the entry script is still downloading and a page costs one round
// trip after the HTML instead of several; the stylesheet link Vite wrote is
// taken out, since the boot script adds it without holding up the splash;
// (2) every text asset gets .gz and .br siblings, which the BFF serves with
// Content-Encoding (bff/api/static.go).
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { boot } from './boot.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));

// Route path patterns (router.ts), the page each one renders first, and the
// GETs that page makes before it shows anything (besides /api/v1/me, which
// every page load asks for). Only the two first screens people open from
// the WeChat menu fetch early: the holder's list and the officer's scan page.
// Those two are in the entry chunk (null: nothing to preload; checked below).
const routes = [
  ['^/licences/?$', null, ['/api/v1/licences']],
  ['^/licences/[^/]+/?$', 'LicenceDetailPage', []],
  ['^/licences/[^/]+/show/?$', 'ShowCodePage', []],
  ['^/licences/[^/]+/usage/?$', 'UsagePage', []],
  ['^/officer/scan/?$', null, ['/api/v1/officer/context']],
  ['^/officer/result/?$', 'ResultPage', []],
  ['^/officer/history/?$', 'HistoryPage', []],
  ['^/realname/?$', 'RealnamePage', []],
  ['^/v/', 'VerifyLinkPage', []],
  ['^/me/?$', 'MePage', []],
];
const inEntryPages = ['LicencesPage', 'ScanPage'];

const pageKey = (page) => Object.keys(manifest).find((k) => k.endsWith(`/pages/${page}.vue`));
for (const page of inEntryPages) {
  if (pageKey(page)) throw new Error(`postbuild: ${page} is a chunk of its own; its route must preload it`);
}

// closure lists a chunk's files for the boot script: the chunks it imports
// statically, then the chunk, each followed by its stylesheets, so Vant's
// styles come before the page's own that adjust them.
function closure(key, out = []) {
  const c = manifest[key];
  if (!c || out.includes(c.file)) return out;
  out.push(c.file);
  for (const imp of c.imports ?? []) closure(imp, out);
  return out;
}
const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
const entry = manifest[entryKey];
// The entry's own imports are modulepreloaded by the tags Vite wrote.
const inEntry = new Set(closure(entryKey));
const table = routes.map(([re, page, api]) => {
  if (!page) return [re, [], api];
  const key = pageKey(page);
  if (!key) throw new Error(`postbuild: no chunk for ${page}`);
  const chunks = closure(key)
    .filter((f) => !inEntry.has(f))
    .reverse();
  const files = chunks.flatMap((f) => [f, ...(Object.values(manifest).find((c) => c.file === f).css ?? [])]);
  return [re, files, api];
});

if (entry.css?.length !== 1) throw new Error(`postbuild: expected one stylesheet for the entry, found ${entry.css?.length ?? 0}`);
const css = entry.css[0];
const indexPath = join(dist, 'index.html');
let html = readFileSync(indexPath, 'utf8');
const stylesheet = /\s*<link rel="stylesheet"[^>]*>/g;
const linked = [...html.matchAll(stylesheet)];
if (linked.length !== 1 || !linked[0][0].includes(`/${css}"`)) {
  throw new Error(`postbuild: expected index.html to link ${css} once, found ${linked.map((m) => m[0].trim()).join(' ') || 'none'}`);
}
html = html.replace(stylesheet, '');
if (!html.includes('</head>')) throw new Error('postbuild: index.html has no </head>');
const script = `<script>(${boot})(${JSON.stringify(`/${css}`)},${JSON.stringify(table)},location.pathname)</script>`;
writeFileSync(indexPath, html.replace('</head>', `${script}\n  </head>`));

const compressible = /\.(js|mjs|css|html|svg|json|txt|map)$/;
let raw = 0;
let br = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== '.vite') walk(p);
      continue;
    }
    if (!compressible.test(name)) continue;
    const data = readFileSync(p);
    if (data.length < 512) continue;
    const b = brotliCompressSync(data, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    });
    writeFileSync(`${p}.br`, b);
    writeFileSync(`${p}.gz`, gzipSync(data, { level: 9 }));
    raw += data.length;
    br += b.length;
  }
}
walk(dist);
console.log(
  `postbuild: boot script for ${table.length} routes; ${(raw / 1024).toFixed(1)} KB of text assets, ${(br / 1024).toFixed(1)} KB as brotli`,
);
