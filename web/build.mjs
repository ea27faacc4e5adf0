// Builds web/dist/ (embedded by the Rust server): copies src/** and the vendor files the pages
// load (uPlot's IIFE build and CSS) into dist/vendor/. Node standard library only.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

// What dist/ must hold: relative path → source file.
const wanted = new Map();
for (const f of listFiles(src)) wanted.set(relative(src, f), f);
for (const [from, to] of VENDOR) {
  const source = join(root, from);
  if (!existsSync(source)) fail(`${from} is missing: run \`npm ci\` in web/`);
  wanted.set(to, source);
}

// Files are written only when their bytes changed, so an unchanged front end keeps its
// modification times and the Rust build (which embeds dist/) is not redone for nothing.
mkdirSync(dist, { recursive: true });
let changed = 0;
for (const [rel, source] of wanted) {
  const target = join(dist, rel);
  const bytes = readFileSync(source);
  if (existsSync(target) && readFileSync(target).equals(bytes)) continue;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, bytes);
  changed += 1;
}
for (const f of listFiles(dist)) {
  if (!wanted.has(relative(dist, f))) {
    rmSync(f);
    changed += 1;
  }
}

const files = listFiles(dist).map((f) => relative(dist, f)).sort();
for (const required of ['index.html', 'history.html']) {
  if (!files.includes(required)) fail(`dist/${required} was not produced`);
}
console.log(`build: ${files.length} files in ${relative(process.cwd(), dist) || dist} (${changed} changed)`);
