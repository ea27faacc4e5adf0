// Static checks of src/: no HTML-parsing DOM sinks or eval in our scripts, no inline scripts,
// inline styles or inline event handlers in our pages (the server's CSP forbids them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function files(dir, ext) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, ext));
    else if (p.endsWith(ext)) out.push(p);
  }
  return out;
}

/** Source without comments (strings are kept: a sink name in a string is suspicious too). */
function code(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

test('scripts use no HTML-parsing sinks, eval or string timers', () => {
  const forbidden = [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\s*\(/, /new\s+Function\s*\(/, /setTimeout\(\s*['"`]/, /setInterval\(\s*['"`]/, /createContextualFragment/, /DOMParser/];
  const js = files(join(src, 'js'), '.js');
  assert.ok(js.length > 5);
  for (const file of js) {
    const body = code(readFileSync(file, 'utf8'));
    for (const re of forbidden) assert.doesNotMatch(body, re, `${file}: ${re}`);
    assert.doesNotMatch(body, /setAttribute\(\s*['"]style['"]/, `${file}: style attribute`);
  }
});

test('every script starts with a comment saying what it holds', () => {
  for (const file of files(join(src, 'js'), '.js')) {
    assert.match(readFileSync(file, 'utf8'), /^\/\/ \S/, file);
  }
});

test('pages have no inline scripts, styles or handlers', () => {
  const html = files(src, '.html');
  assert.ok(html.length >= 2);
  for (const file of html) {
    const body = readFileSync(file, 'utf8');
    for (const m of body.matchAll(/<script\b([^>]*)>/gi)) assert.match(m[1], /\bsrc=/, `${file}: inline <script>`);
    assert.doesNotMatch(body, /<style\b/i, `${file}: <style>`);
    assert.doesNotMatch(body, /\sstyle\s*=/i, `${file}: style attribute`);
    assert.doesNotMatch(body, /\son[a-z]+\s*=/i, `${file}: inline event handler`);
    assert.doesNotMatch(body, /javascript:/i, `${file}: javascript: URL`);
  }
});
