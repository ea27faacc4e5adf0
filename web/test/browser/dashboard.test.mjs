// The live dashboard against the real server: a replayed capture's numbers on screen equal
// `wirewatch analyze`'s, charts render, the SYN flood raises an alert row, hostile DNS names
// render as text, the latency and loss panel names the slowest and lossiest connections of a
// capture built with known RTTs, and the capture controls start, re-filter and stop a live
// capture.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { analyze, binary, fixtures, launch, open, skip, startWirewatch, tempDir, waitForStat } from './support.mjs';
import { writeDnsPcap, writeTcpPcap } from './pcap.mjs';

let browser;
before(async () => { if (!skip) browser = await launch(); });
after(async () => { await browser?.close(); });

describe('a replayed SYN flood', { skip }, () => {
  const file = join(fixtures, 'hping3_syn_flood.pcap');
  let ww;
  before(async () => { ww = await startWirewatch(['--read', file, '--speed', 'max', '--stay', '--no-db']); });
  after(async () => { await ww?.stop(); });

  it('shows the replay\'s totals, charts, tables and the alert', async () => {
    const reference = analyze(file);
    const { page, errors } = await open(browser, ww.url);
    await waitForStat(page, 'packets_total', reference.packets);
    await waitForStat(page, 'bytes_total', reference.bytes);
    const drops = await page.getAttribute('[data-testid="stat-drops_queue"]', 'data-value');
    assert.equal(drops, '0');
    // The flood is an alert on screen, and the threat level says so.
    const row = page.locator('[data-testid="alert-row"][data-kind="syn_flood"]');
    await row.first().waitFor({ timeout: 10000 });
    assert.match(await row.first().innerText(), /10\.210\.0\.2/);
    // One policy: the threat level is the worst severity of the open incidents, the same
    // severity `analyze` reports for them.
    const worst = ['low', 'medium', 'high', 'critical']
      .filter((l) => reference.alerts.some((a) => a.severity === l))
      .pop();
    assert.equal(worst, 'high');
    assert.equal(await page.getAttribute('[data-testid="stat-threat"]', 'data-value'), worst);
    // Charts are drawn (uPlot canvases with a size), bars and tables are filled.
    const canvas = page.locator('[data-testid="chart-rate"] canvas').first();
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, `chart size ${JSON.stringify(box)}`);
    assert.ok(Number(await page.getAttribute('[data-testid="chart-rate"]', 'data-alert-markers')) >= 1);
    assert.ok(await page.locator('[data-testid="connection-row"]').count() > 0);
    assert.ok(await page.locator('[data-testid="packet-row"]').count() > 0);
    assert.match(await page.locator('[data-testid="protocol-bars"]').innerText(), /tcp/i);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('stacks its panels on a phone', async () => {
    const { page } = await open(browser, ww.url, { width: 390, height: 844 });
    await page.locator('[data-testid="stat-packets_total"]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
    await page.close();
  });
});

describe('hostile names from the network', { skip }, () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'hostile-dns.pcap');
  const hostile = [
    '<script>window.__pwned=1</script>.evil.test',
    '<img src=x onerror=window.__pwned=2>.evil.test',
  ];
  let ww;
  before(async () => {
    writeDnsPcap(file, hostile);
    ww = await startWirewatch(['--read', file, '--speed', 'max', '--stay', '--no-db']);
  });
  after(async () => { await ww?.stop(); tmp.remove(); });

  it('renders DNS names as text, never as markup', async () => {
    const { page } = await open(browser, ww.url);
    const table = page.locator('[data-testid="connections-table"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="connections-table"]')?.textContent.includes('</script>.evil.test'),
      null,
      { timeout: 15000 },
    );
    const text = await table.innerText();
    assert.ok(text.includes(hostile[0]), text);
    // The space in the second name is escaped by the decoder (\032), the rest kept as text.
    assert.ok(text.includes('<img\\032src=x\\032onerror=window.__pwned=2>.evil.test'), text);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src || 'inline'));
    assert.ok(scripts.every((s) => s.startsWith('http')), `unexpected script elements: ${scripts}`);
    // The answers named the servers: the learned name shows, as text, next to the address.
    const dests = await page.locator('[data-testid="top-destinations"]').innerText();
    assert.ok(dests.includes('198.51.100.10') && dests.includes(hostile[0]), dests);
    // UDP only: the latency panel says so instead of drawing empty charts.
    assert.equal(await page.locator('[data-testid="tcp-empty"]').innerText(), 'no TCP handshakes seen yet');
    assert.equal(await page.locator('[data-testid="chart-tcp"]').isVisible(), false);
    await page.close();
  });
});

describe('TCP latency and loss', { skip }, () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'tcp-health.pcap');
  let frames;
  let ww;
  before(async () => {
    frames = writeTcpPcap(file);
    ww = await startWirewatch(['--read', file, '--speed', 'max', '--stay', '--no-db']);
  });
  after(async () => { await ww?.stop(); tmp.remove(); });

  it('shows the slowest and the lossiest connection with the analysis\'s numbers', async () => {
    const reference = analyze(file);
    const flows = reference.flows.filter((f) => typeof f.tcp_rtt_ms === 'number');
    const slowest = flows.reduce((a, b) => (b.tcp_rtt_ms > a.tcp_rtt_ms ? b : a));
    const lossiest = reference.flows.reduce((a, b) => (b.tcp_retransmissions > a.tcp_retransmissions ? b : a));
    // What was built into the capture, as the analysis reads it.
    assert.equal(reference.packets, frames);
    assert.deepEqual([slowest.src_ip, slowest.dst_ip, slowest.tcp_rtt_ms], ['10.88.0.3', '192.0.2.30', 310]);
    assert.deepEqual([lossiest.dst_ip, lossiest.tcp_retransmissions], ['192.0.2.40', 2]);

    const { page, errors } = await open(browser, ww.url);
    await waitForStat(page, 'packets_total', frames);
    const panel = page.locator('[data-testid="tcp-panel"]');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="tcp-slowest-row"]').length === 4,
      null,
      { timeout: 15000 },
    );
    assert.equal(await panel.getAttribute('data-state'), 'data');
    assert.equal(await page.locator('[data-testid="tcp-empty"]').isVisible(), false);
    const first = page.locator('[data-testid="tcp-slowest-row"]').first();
    const text = await first.innerText();
    assert.ok(text.includes(`${slowest.src_ip} → ${slowest.dst_ip}`) && text.includes('310 ms'), text);
    assert.equal(await first.locator('[data-field="rtt_ms"]').getAttribute('data-value'), String(slowest.tcp_rtt_ms));
    const rtts = await page.locator('[data-testid="tcp-slowest-row"] [data-field="rtt_ms"]').evaluateAll((els) => els.map((e) => Number(e.dataset.value)));
    assert.deepEqual(rtts, flows.map((f) => f.tcp_rtt_ms).sort((a, b) => b - a));
    const lossy = page.locator('[data-testid="tcp-lossiest-row"]');
    assert.equal(await lossy.count(), 1);
    assert.match(await lossy.innerText(), /192\.0\.2\.40/);
    assert.equal(await lossy.locator('[data-field="retransmissions"]').getAttribute('data-value'), String(lossiest.tcp_retransmissions));
    // Hosts: every endpoint once, the lossy connection's two first.
    const hosts = page.locator('[data-testid="tcp-host-row"]');
    assert.equal(await hosts.count(), 8);
    assert.match(await hosts.first().innerText(), /10\.88\.0\.4/);
    assert.equal(await hosts.first().locator('[data-field="retransmissions"]').getAttribute('data-value'), '2');
    // The chart is drawn; under the cursor its legend gives each value with its unit.
    const canvas = page.locator('[data-testid="chart-tcp"] canvas').first();
    await canvas.waitFor();
    const box = await canvas.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, `chart size ${JSON.stringify(box)}`);
    await page.locator('[data-testid="chart-tcp"] .u-over').hover();
    await page.waitForFunction(
      () => / ms/.test(document.querySelector('[data-testid="chart-tcp"] .u-legend')?.textContent || ''),
      null,
      { timeout: 5000 },
    );
    const legend = await page.locator('[data-testid="chart-tcp"] .u-legend').innerText();
    assert.match(legend, /RTT p50:?\s*[\d.]+ ms/, legend);
    assert.match(legend, /retransmissions:?\s*[\d.]+k? \/s/, legend);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe('capture controls', { skip }, () => {
  let ww;
  before(async () => { ww = await startWirewatch(['--demo', '--no-db']); });
  after(async () => { await ww?.stop(); });

  it('start on an interface with a filter, refuse a bad filter inline, stop', async () => {
    const { page } = await open(browser, ww.url);
    const select = page.locator('[data-testid="interface-select"]');
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="interface-select"] option')].some((o) => o.value === 'lo'),
      null,
      { timeout: 10000 },
    );
    await select.selectOption('lo');
    await page.fill('[data-testid="filter-input"]', 'udp');
    await page.click('[data-testid="btn-start"]');
    const status = page.locator('[data-testid="capture-status"]');
    await page.waitForFunction(() => {
      const s = document.querySelector('[data-testid="capture-status"]');
      return s?.dataset.interface === 'lo' && s?.dataset.filter === 'udp' && s?.dataset.running === 'true';
    }, null, { timeout: 10000 });

    await page.fill('[data-testid="filter-input"]', 'tcp port (');
    await page.click('[data-testid="btn-filter"]');
    const error = page.locator('[data-testid="control-error"]');
    await error.waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await error.innerText(), /filter|syntax/i);
    assert.equal(await status.getAttribute('data-filter'), 'udp', 'the old filter stays');

    await page.click('[data-testid="btn-stop"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="capture-status"]')?.dataset.running === 'false',
      null,
      { timeout: 10000 },
    );
    await page.close();
  });
});

describe('threat intelligence on screen', { skip }, () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'bad-server.pcap');
  const list = join(tmp.dir, 'drop.txt');
  const config = join(tmp.dir, 'wirewatch.toml');
  let ww;
  before(async () => {
    writeDnsPcap(file, ['updates.bad.example'], 1700000000, [[45, 155, 205, 233]]);
    writeFileSync(list, '45.155.205.0/24 ; SBL123456\n');
    writeFileSync(config, `[[intel.blocklists]]\nname = "drop"\npath = "${list}"\n`);
    ww = await startWirewatch(['--read', file, '--speed', 'max', '--stay', '--no-db', '--config', config]);
  });
  after(async () => { await ww?.stop(); tmp.remove(); });

  it('marks the listed server in the tables and raises the alert', async () => {
    const { page, errors } = await open(browser, ww.url);
    await page.locator('[data-testid="alert-row"][data-kind="threat_intel"]').first().waitFor({ timeout: 15000 });
    const tag = page.locator('[data-testid="connections-table"] [data-testid="threat-tag"]').first();
    await tag.waitFor({ timeout: 10000 });
    assert.match(await tag.innerText(), /blocklist drop \(45\.155\.205\.0\/24\)/);
    assert.match(await page.locator('[data-testid="top-destinations"]').innerText(), /⚠ blocklist drop/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe('retraining the anomaly model', { skip }, () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'normal.pcap');
  let ww;
  before(async () => {
    execFileSync(binary(), ['generate', '-o', file, '--packets', '60000', '--flows', '2000', '--pps', '1000']);
    ww = await startWirewatch(['--read', file, '--speed', 'max', '--stay', '--db', join(tmp.dir, 'h.db')]);
  });
  after(async () => { await ww?.stop(); tmp.remove(); });

  it('trains on the stored hour without stopping anything', async () => {
    const { page } = await open(browser, ww.url);
    await waitForStat(page, 'packets_total', 60000);
    await page.click('[data-testid="btn-retrain"]');
    const result = page.locator('[data-testid="retrain-result"]');
    await page.waitForFunction(
      () => /retrained on \d+ intervals/.test(document.querySelector('[data-testid="retrain-result"]')?.textContent || ''),
      null,
      { timeout: 20000 },
    );
    assert.match(await result.innerText(), /retrained on (5\d|60|61) intervals, saved to .*h\.anomaly\.json/);
    await page.close();
  });
});
