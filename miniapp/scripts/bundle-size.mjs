// Measures what a phone downloads for the first screen after `vite build`:
// the entry chunk with the chunks it imports and their stylesheets (which
// the boot script in index.html adds), plus, for each lazily loaded page,
// the chunks and stylesheets that page needs before it can render (its
// static imports). Fails the build when any first screen is over budget
// (150 KB gzipped; docs/PERFORMANCE.md).
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 150 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

const gz = new Map();
function gzSize(file) {
  if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(join(dist, file)), { level: 9 }).length);
  return gz.get(file);
}

const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));

// closure collects a chunk, the chunks it imports statically, and their CSS.
function closure(key, out = new Set()) {
  const chunk = manifest[key];
  if (!chunk || out.has(chunk.file)) return out;
  out.add(chunk.file);
  for (const css of chunk.css ?? []) out.add(css);
  for (const imp of chunk.imports ?? []) closure(imp, out);
  return out;
}

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
if (!entry) {
  console.error('bundle-size: no entry in dist/.vite/manifest.json; is dist/ a vite build?');
  process.exit(1);
}
const initial = closure(entry);

const sum = (files) => [...files].reduce((n, f) => n + gzSize(f), 0);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

const initialTotal = sum(initial);
const pages = Object.entries(manifest)
  .filter(([key, c]) => c.isDynamicEntry && /\/pages\/[^/]+\.vue$/.test(key))
  .map(([key]) => {
    const files = closure(key);
    for (const f of initial) files.add(f);
    return { page: key.replace(/^.*\/pages\//, ''), total: sum(files) };
  })
  .sort((a, b) => b.total - a.total);

console.log(`bundle-size: index.html loads ${initial.size} files, ${kb(initialTotal)} gzipped (JS+CSS)`);
for (const p of pages) console.log(`bundle-size:   first screen on ${p.page.padEnd(24)} ${kb(p.total)}`);
const worst = Math.max(initialTotal, ...pages.map((p) => p.total));
console.log(`bundle-size: largest first screen ${kb(worst)} of ${kb(BUDGET)} budget`);
if (worst > BUDGET) {
  console.error(`bundle-size: over budget by ${kb(worst - BUDGET)}`);
  process.exit(1);
}
