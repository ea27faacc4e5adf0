// Packets as capture files in the browser, against the real server: a replayed SYN scan's
// alert links its evidence capture (dashboard and history), the link downloads a pcap, and
// the Packets panel downloads a pcapng of one host, explains a bad port and a missing
// --write-pcap inline, and saves nothing then.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fixtures, launch, open, skip, startWirewatch, tempDir } from './support.mjs';

/** The saved file of a Playwright download, as bytes. */
async function downloaded(download) {
  const path = await download.path();
  assert.ok(path, `download failed: ${await download.failure()}`);
  return readFileSync(path);
}

const magic = (bytes) => bytes.subarray(0, 4).toString('hex');

describe('packet downloads', { skip }, () => {
  const tmp = tempDir();
  const file = join(fixtures, 'nmap_syn_scan.pcap');
  let ww;
  let browser;
  before(async () => {
    ww = await startWirewatch(['--read', file, '--speed', 'max', '--stay', '--db', join(tmp.dir, 't.db')]);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await ww?.stop();
    tmp.remove();
  });

  it('links the alert\'s evidence capture and downloads it', async () => {
    const { page, errors } = await open(browser, ww.url);
    const row = page.locator('[data-testid="alert-row"][data-kind="port_scan"]').first();
    const link = row.locator('[data-testid="alert-evidence"]');
    await link.waitFor({ timeout: 15000 });
    const id = await row.getAttribute('data-id');
    assert.match(id, /^\d+$/);
    // A path relative to the page (like every API path here), resolving to the evidence URL.
    const href = await link.getAttribute('href');
    assert.equal(href, `api/alerts/${id}/evidence`);
    assert.equal(new URL(await link.evaluate((a) => a.href)).pathname, `/api/alerts/${id}/evidence`);
    assert.equal(await link.getAttribute('download'), '');
    assert.match(await link.innerText(), /^pcap · [\d,]+ pkts$/);
    const title = await link.getAttribute('title');
    assert.match(title, /10\.210\.0\.1/);
    assert.match(title, /window \d{4}-\d\d-\d\d/);

    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), `alert-${id}.pcap`);
    const bytes = await downloaded(download);
    assert.ok(['d4c3b2a1', '4d3cb2a1'].includes(magic(bytes)), `pcap magic, got ${magic(bytes)}`);
    assert.ok(bytes.length > 24, `only ${bytes.length} bytes`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('links it from the history page too', async () => {
    const { page, errors } = await open(browser, `${ww.url}history?tab=alerts`);
    const link = page.locator('[data-testid="history-row"][data-kind="port_scan"] [data-testid="alert-evidence"]').first();
    await link.waitFor({ timeout: 15000 });
    const id = await page.locator('[data-testid="history-row"][data-kind="port_scan"]').first().getAttribute('data-id');
    assert.equal(new URL(await link.evaluate((a) => a.href)).pathname, `/api/alerts/${id}/evidence`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('downloads packets of a host from the Packets panel and explains refusals', async () => {
    const { page, errors } = await open(browser, ww.url);
    await page.locator('[data-testid="alert-row"]').first().waitFor({ timeout: 15000 });
    let downloads = 0;
    page.on('download', () => { downloads += 1; });

    await page.fill('[data-testid="packets-host"]', '10.210.0.1');
    await page.selectOption('[data-testid="packets-format"]', 'pcapng');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="packets-download"]')]);
    const bytes = await downloaded(download);
    assert.equal(magic(bytes), '0a0d0d0a', 'pcapng section header block');
    assert.match(download.suggestedFilename(), /\.pcapng$/);
    const result = page.locator('[data-testid="packets-result"]');
    await page.waitForFunction(() => / packets? /.test(document.querySelector('[data-testid="packets-result"]')?.textContent || ''));
    const count = /^([\d,]+) packets?/.exec(await result.innerText());
    assert.ok(count && Number(count[1].replace(/,/g, '')) > 0, await result.innerText());
    assert.ok(await page.locator('[data-testid="packets-error"]').isHidden());
    assert.deepEqual(errors, []);
    assert.equal(downloads, 1);

    // A bad port: the server's message inline, nothing saved.
    await page.fill('[data-testid="packets-port"]', '99999');
    await page.click('[data-testid="packets-download"]');
    const error = page.locator('[data-testid="packets-error"]');
    await error.waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await error.innerText(), /99999/);
    assert.ok(await result.isHidden());

    // Capture files need --write-pcap, and the message says so.
    await page.fill('[data-testid="packets-port"]', '');
    await page.selectOption('[data-testid="packets-source"]', 'files');
    await page.click('[data-testid="packets-download"]');
    await page.waitForFunction(() => /--write-pcap/.test(document.querySelector('[data-testid="packets-error"]')?.textContent || ''), null, { timeout: 10000 });
    assert.ok(await error.isVisible());
    await page.waitForTimeout(300);
    assert.equal(downloads, 1, 'a refused request saves no file');
    // The only console noise is Chromium reporting the 400 and 503 answers.
    assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
    await page.close();
  });
});
