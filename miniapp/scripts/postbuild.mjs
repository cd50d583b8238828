// After `vite build`: (1) index.html learns which chunks each route needs
// and asks for them (modulepreload) while the entry script is still
// downloading, so a page costs one round trip instead of two on a slow
// network; (2) every text asset gets .gz and .br siblings, which the BFF
// serves with Content-Encoding (bff/api/static.go).
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));

// Route path patterns (router.ts) and the page each one renders first.
const routes = [
  ['^/licences/?$', 'LicencesPage'],
  ['^/licences/[^/]+/?$', 'LicenceDetailPage'],
  ['^/licences/[^/]+/show/?$', 'ShowCodePage'],
  ['^/licences/[^/]+/usage/?$', 'UsagePage'],
  ['^/officer/scan/?$', 'ScanPage'],
  ['^/officer/result/?$', 'ResultPage'],
  ['^/officer/history/?$', 'HistoryPage'],
  ['^/realname/?$', 'RealnamePage'],
  ['^/v/', 'VerifyLinkPage'],
  ['^/me/?$', 'MePage'],
];

const entry = Object.values(manifest).find((c) => c.isEntry);
const inEntry = new Set([entry.file, ...(entry.css ?? [])]);
function closure(key, out = new Set()) {
  const c = manifest[key];
  if (!c || out.has(c.file)) return out;
  if (!inEntry.has(c.file)) out.add(c.file);
  for (const css of c.css ?? []) if (!inEntry.has(css)) out.add(css);
  for (const imp of c.imports ?? []) if (manifest[imp] !== entry) closure(imp, out);
  return out;
}
const table = routes.map(([re, page]) => {
  const key = Object.keys(manifest).find((k) => k.endsWith(`/pages/${page}.vue`));
  if (!key) throw new Error(`postbuild: no chunk for ${page}`);
  return [re, [...closure(key)]];
});
const preload =
  `<script>(function(t,p){for(var i=0;i<t.length;i++)if(new RegExp(t[i][0]).test(p)){t[i][1].forEach(function(f){` +
  `var l=document.createElement('link');if(/\\.css$/.test(f)){l.rel='preload';l.as='style'}else{l.rel='modulepreload';l.crossOrigin=''}` +
  `l.href='/'+f;document.head.appendChild(l)});break}})(${JSON.stringify(table)},location.pathname)</script>`;
const indexPath = join(dist, 'index.html');
const html = readFileSync(indexPath, 'utf8');
if (!html.includes('</head>')) throw new Error('postbuild: index.html has no </head>');
writeFileSync(indexPath, html.replace('</head>', `${preload}\n  </head>`));

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
    const b = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } });
    writeFileSync(`${p}.br`, b);
    writeFileSync(`${p}.gz`, gzipSync(data, { level: 9 }));
    raw += data.length;
    br += b.length;
  }
}
walk(dist);
console.log(`postbuild: route preloads for ${table.length} routes; ${(raw / 1024).toFixed(1)} KB of text assets, ${(br / 1024).toFixed(1)} KB as brotli`);
