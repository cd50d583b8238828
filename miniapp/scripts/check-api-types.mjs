// Fails when src/api/generated/api-v1.ts is not what openapi-typescript
// makes of docs/openapi/api-v1.yaml now: the document changed (a route, a
// member) without `npm run gen:api`, or someone edited the generated file.
// The generator runs exactly as `gen:api` runs it, into a temporary file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const doc = join(root, '..', 'docs', 'openapi', 'api-v1.yaml');
const committed = join(root, 'src', 'api', 'generated', 'api-v1.ts');
const cli = join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');

const dir = mkdtempSync(join(tmpdir(), 'api-types-'));
try {
  const fresh = join(dir, 'api-v1.ts');
  execFileSync(process.execPath, [cli, doc, '-o', fresh], { stdio: ['ignore', 'ignore', 'inherit'] });
  const want = readFileSync(fresh, 'utf8').split('\n');
  const have = readFileSync(committed, 'utf8').split('\n');
  const at = want.findIndex((line, i) => line !== have[i]);
  if (at >= 0 || want.length !== have.length) {
    const line = at >= 0 ? at : Math.min(want.length, have.length);
    console.error(`src/api/generated/api-v1.ts differs from what docs/openapi/api-v1.yaml generates (line ${line + 1}):`);
    console.error(`  committed: ${have[line] ?? '(end of file)'}`);
    console.error(`  generated: ${want[line] ?? '(end of file)'}`);
    console.error('Run `npm run gen:api` and commit the result.');
    process.exit(1);
  }
  console.log('API types: src/api/generated/api-v1.ts matches docs/openapi/api-v1.yaml');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
