// Packs dist/ into the zip Twitch expects: panel.html and config.html at the
// zip root, assets/ beside them. Run by `npm run zip`, which builds first; set
// MGM_EXTENSION_VERSION to stamp a release version (default: package.json).
//
//   MGM_EXTENSION_VERSION=1.2.0 npm run zip   →   release/mgm-extension-1.2.0.zip

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(here, 'dist');
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const version = (process.env.MGM_EXTENSION_VERSION ?? '').trim() || pkg.version;

function fail(msg) {
  console.error(`zip: ${msg}`);
  process.exit(1);
}

if (!/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(version)) fail(`"${version}" is not a semantic version`);
for (const f of ['panel.html', 'config.html']) if (!existsSync(join(dist, f))) fail(`dist/${f} is missing; run npm run build`);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const files = walk(dist).sort();
const entries = {};
let raw = 0;
let gz = 0;
let stamped = false;
// A fixed timestamp keeps the zip reproducible for the same build.
const mtime = new Date('2026-01-01T00:00:00Z');
for (const p of files) {
  const rel = relative(dist, p).split('\\').join('/');
  const data = readFileSync(p);
  entries[rel] = [new Uint8Array(data), { level: 9, mtime }];
  raw += data.length;
  gz += gzipSync(data, { level: 9 }).length;
  if (rel.endsWith('.js') && ['"', "'", '`'].some((q) => data.includes(q + version + q))) stamped = true;
}
if (!stamped) fail(`no script in dist/ carries the version "${version}": build with MGM_EXTENSION_VERSION=${version} (npm run zip does)`);

const out = join(here, 'release', `mgm-extension-${version}.zip`);
mkdirSync(dirname(out), { recursive: true });
const zip = zipSync(entries);
writeFileSync(out, zip);

const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`${relative(process.cwd(), out) || out}  (${files.length} files, ${kb(zip.length)})`);
for (const p of files) console.log('  ' + relative(dist, p).split('\\').join('/'));
console.log(`version ${version}; bundle ${kb(raw)} raw, ${kb(gz)} gzipped`);
