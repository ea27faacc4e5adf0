// Takes the README's screenshots: the dashboard on the demo traffic (after its port scan and
// SYN flood), and the history page. Usage: npm run screenshots (needs the debug build).
import { join } from 'node:path';
import { launch, open, repo, startWirewatch, tempDir } from './test/browser/support.mjs';

const tmp = tempDir();
const ww = await startWirewatch(['--demo', '--db', join(tmp.dir, 'demo.db')]);
const browser = await launch();
try {
  // The demo attacks within its first minute; wait until an alert shows.
  const { page } = await open(browser, ww.url, { width: 1440, height: 1500 });
  await page.locator('[data-testid="alert-row"]').first().waitFor({ timeout: 90000 });
  await page.waitForTimeout(20000);
  await page.screenshot({ path: join(repo, 'docs/screenshots/dashboard.png'), fullPage: true });
  const history = await open(browser, `${ww.url}history?tab=flows&from=-5m`, { width: 1440, height: 1100 });
  await history.page.locator('[data-testid="history-row"]').first().waitFor({ timeout: 15000 });
  await history.page.waitForTimeout(1000);
  await history.page.screenshot({ path: join(repo, 'docs/screenshots/history.png'), fullPage: false });
} finally {
  await browser.close();
  await ww.stop();
  tmp.remove();
}
