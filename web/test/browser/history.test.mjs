// The history page against the real server and its SQLite database: stored intervals and
// talkers come back, a name search finds the hostile name and shows it as text, charts render
// and the download links serve CSV and JSON of the current result.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, open, skip, startWirewatch, tempDir } from './support.mjs';
import { writeDnsPcap } from './pcap.mjs';

describe('history page', { skip }, () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'names.pcap');
  const hostile = '<script>window.__pwned=1</script>.evil.test';
  let ww;
  let browser;
  before(async () => {
    writeDnsPcap(file, [hostile, 'plain.example']);
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

  it('explains a bad search inline', async () => {
    const { page } = await open(browser, `${ww.url}history?tab=flows`);
    await page.fill('[data-testid="filter-ip"]', '10.0.0.0/99');
    await page.click('[data-testid="search-submit"]');
    const error = page.locator('[data-testid="history-error"]');
    await error.waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await error.innerText(), /ip/i);
    await page.close();
  });
});
