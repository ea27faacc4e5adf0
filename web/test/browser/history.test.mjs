// The history page against the real server and its SQLite database: stored intervals and
// talkers come back, a name search finds the hostile name and shows it as text, charts render
// and the download links serve CSV and JSON of the current result; the Transactions tab lists
// the DNS, HTTP and TLS transactions `wirewatch analyze` finds in the same capture, filtered by
// kind and name, their hostile names as text.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyze, launch, open, skip, startWirewatch, tempDir } from './support.mjs';
import { writeDnsPcap } from './pcap.mjs';

describe('history page', { skip }, () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'names.pcap');
  const hostile = '<script>window.__pwned=1</script>.evil.test';
  const hostileHost = '<img/src=x/onerror=window.__pwned=2>.evil.test';
  const hostileSni = '<svg/onload=window.__pwned=3>.evil.test';
  let ww;
  let browser;
  before(async () => {
    writeDnsPcap(file, [hostile, 'plain.example'], 1700000000, null, {
      http: [
        { host: 'www.example.com', uri: '/index.html', status: '200 OK' },
        { method: 'POST', host: hostileHost, uri: '/login?next=<b>', status: '404 Not Found' },
      ],
      tls: ['secure.example.org', hostileSni],
    });
    ww = await startWirewatch(['--read', file, '--speed', 'max', '--stay', '--db', join(tmp.dir, 'h.db')]);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await ww?.stop();
    tmp.remove();
  });

  it('searches stored talkers by name and renders the name as text', async () => {
    const { page, errors } = await open(browser, `${ww.url}history?tab=intervals&from=-1h`);
    await page.locator('[data-testid="history-row"]').first().waitFor({ timeout: 15000 });
    const canvas = page.locator('[data-testid="chart-history"] canvas').first();
    await canvas.waitFor();
    assert.ok((await canvas.boundingBox()).width > 100);

    await page.click('[data-testid="tab-talkers"]');
    await page.fill('[data-testid="filter-name"]', 'evil');
    await page.click('[data-testid="search-submit"]');
    // Wait for the filtered result itself: the unfiltered table shown before the search has
    // the hostile name too, so only the other name's absence says the search came back.
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="history-table-talkers"] [data-testid="history-row"]')];
        return rows.some((r) => r.textContent.includes('.evil.test'))
          && !rows.some((r) => r.textContent.includes('plain.example'));
      },
      null,
      { timeout: 15000 },
    );
    const text = await page.locator('[data-testid="history-table-talkers"]').innerText();
    assert.ok(text.includes(hostile), text);
    assert.ok(!text.includes('plain.example'), 'the name filter keeps only matching talkers');
    assert.equal(await page.evaluate(() => window.__pwned), undefined);

    // The download links export exactly this result.
    const csvHref = await page.getAttribute('[data-testid="download-csv"]', 'href');
    const csv = await page.evaluate(async (h) => (await fetch(h)).text(), csvHref);
    const lines = csv.trim().split('\n');
    assert.ok(lines[0].includes('ip') && lines[0].includes('name'), lines[0]);
    assert.ok(lines.length >= 2 && lines.slice(1).every((l) => l.includes('.evil.test')), csv);
    const jsonHref = await page.getAttribute('[data-testid="download-json"]', 'href');
    const rows = await page.evaluate(async (h) => (await fetch(h)).json(), jsonHref);
    assert.ok(Array.isArray(rows) && rows.length === lines.length - 1 && rows[0].name === hostile, JSON.stringify(rows));
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('lists the transactions analyze finds, filters them by kind and name, names as text', async () => {
    const reference = analyze(file);
    const want = { dns: reference.dns.length, http: reference.http.length, tls: reference.tls.length };
    assert.deepEqual(want, { dns: 2, http: 2, tls: 2 }, 'the capture holds every kind');
    const rows = '[data-testid="history-table-transactions"] [data-testid="history-row"]';
    const kindsShown = (page) => page.$$eval(rows, (rs) => rs.map((r) => r.dataset.kind));
    const { page, errors } = await open(browser, `${ww.url}history?tab=transactions`);
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length === n, [rows, 6], { timeout: 15000 });
    const shown = await kindsShown(page);
    const counts = Object.fromEntries(['dns', 'http', 'tls'].map((k) => [k, shown.filter((x) => x === k).length]));
    assert.deepEqual(counts, want);
    const table = page.locator('[data-testid="history-table-transactions"]');
    const text = await table.innerText();
    for (const name of [hostile, hostileHost, hostileSni, 'plain.example', 'secure.example.org']) {
      assert.ok(text.includes(name), `${name} in\n${text}`);
    }
    // The details column: DNS response codes and answers, HTTP status, TLS version and ALPN.
    for (const d of ['A NOERROR', '→ 198.51.100.10', 'POST /login?next=<b> → 404', 'GET /index.html → 200', 'TLS TLSv1.3 · ALPN h2']) {
      assert.ok(text.includes(d), `${d} in\n${text}`);
    }
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await table.locator('img, svg, script').count(), 0, 'no markup from the network');

    // Only HTTP: exactly what analyze lists, in its order.
    await page.selectOption('[data-testid="filter-txkind"]', 'http');
    await page.click('[data-testid="search-submit"]');
    await page.waitForFunction((sel) => {
      const rs = [...document.querySelectorAll(sel)];
      return rs.length > 0 && rs.every((r) => r.dataset.kind === 'http');
    }, rows, { timeout: 15000 });
    const httpNames = await page.$$eval(rows, (rs) => rs.map((r) => r.children[4].textContent));
    assert.deepEqual(httpNames, reference.http.map((t) => t.host).reverse(), 'newest first');
    assert.match(page.url(), /txkind=http/);

    // A name across kinds, through the URL the page keeps.
    await page.selectOption('[data-testid="filter-txkind"]', '');
    await page.fill('[data-testid="filter-name"]', 'secure.example');
    await page.click('[data-testid="search-submit"]');
    await page.waitForFunction((sel) => {
      const rs = [...document.querySelectorAll(sel)];
      return rs.length === 1 && rs[0].dataset.kind === 'tls';
    }, rows, { timeout: 15000 });
    const jsonHref = await page.getAttribute('[data-testid="download-json"]', 'href');
    const exported = await page.evaluate(async (h) => (await fetch(h)).json(), jsonHref);
    const sni = reference.tls.find((t) => t.sni === 'secure.example.org');
    assert.equal(exported.length, 1);
    assert.equal(exported[0].name, sni.sni);
    assert.equal(exported[0].ja4_a, sni.ja4_a);
    assert.equal(exported[0].tls_version, sni.version);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('explains a bad search inline', async () => {
    const { page } = await open(browser, `${ww.url}history?tab=flows`);
    // The page fills the form from its URL once it has asked for the server's status: typing
    // before that would be overwritten. The first page of rows says it is ready.
    await page.locator('[data-testid="page-info"]').filter({ hasText: /rows/ }).waitFor({ timeout: 15000 });
    await page.fill('[data-testid="filter-ip"]', '10.0.0.0/99');
    await page.click('[data-testid="search-submit"]');
    const error = page.locator('[data-testid="history-error"]');
    await error.waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await error.innerText(), /ip/i);
    await page.close();
  });
});
