// Builds web/dist/ (embedded by the Rust server): copies src/** and the vendor files the pages
// load (uPlot's IIFE build and CSS) into dist/vendor/. Node standard library only.

import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Files copied from node_modules into dist/vendor/. */
const VENDOR = [
  ['node_modules/uplot/dist/uPlot.iife.min.js', 'vendor/uPlot.iife.min.js'],
  ['node_modules/uplot/dist/uPlot.min.css', 'vendor/uPlot.min.css'],
  ['node_modules/uplot/LICENSE', 'vendor/uPlot.LICENSE.txt'],
];

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

if (!existsSync(join(root, 'node_modules', 'uplot'))) {
  fail('node_modules/uplot is missing: run `npm ci` (or `npm install`) in web/ first');
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(src, dist, { recursive: true });

for (const [from, to] of VENDOR) {
  const source = join(root, from);
  if (!existsSync(source)) fail(`${from} is missing: run \`npm ci\` in web/`);
  mkdirSync(dirname(join(dist, to)), { recursive: true });
  copyFileSync(source, join(dist, to));
}

const files = listFiles(dist).map((f) => relative(dist, f)).sort();
for (const required of ['index.html', 'history.html']) {
  if (!files.includes(required)) fail(`dist/${required} was not produced`);
}
console.log(`build: ${files.length} files in ${relative(process.cwd(), dist) || dist}`);
for (const f of files) console.log(`  ${f}`);
