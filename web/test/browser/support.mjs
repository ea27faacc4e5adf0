// Browser-test support: starts the real wirewatch binary with its dashboard on a free port,
// runs `wirewatch analyze` for reference numbers, and launches Debian's Chromium through
// playwright-core. Nothing here is a fake: the page talks to the real server and engine.
//
// The binary and Chromium come from outside web/. When one is missing, every suite is
// skipped with the reason (`describe(name, { skip }, ...)`), except in CI (`CI` set, as
// `.ci/run` runs): there importing this module throws, and the run fails saying what is
// missing. A browser-test run can never be green by skipping in CI, as with the Rust tests'
// `wirewatch_testkit::skip`.

import { spawn, execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '../../..');
export const fixtures = join(repo, 'crates/wirewatch/tests/fixtures/scenarios');

/** The wirewatch binary: $WIREWATCH_BIN, else the debug build `cargo test` made. */
export function binary() {
  return process.env.WIREWATCH_BIN || join(repo, 'target/debug/wirewatch');
}

/** Chromium: $CHROMIUM, else Debian's package. */
function chromiumPath() {
  return process.env.CHROMIUM || '/usr/bin/chromium';
}

/** Whether the tests run in CI: `CI` set to anything but empty, `0` or `false`. */
export function inCi() {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What the browser tests need from outside web/ and do not find (empty: nothing). */
function missingPrerequisites() {
  const missing = [];
  if (!isExecutable(binary())) {
    missing.push(`the wirewatch binary ${binary()} (build it: scripts/build-web.sh, then `
      + 'cargo build -p wirewatch; or set WIREWATCH_BIN)');
  }
  if (!isExecutable(chromiumPath())) {
    missing.push(`Chromium ${chromiumPath()} (install it: scripts/setup.sh --test; or set CHROMIUM)`);
  }
  return missing;
}

/**
 * Why the browser tests cannot run here (`undefined`: they can), for `describe`'s `skip`
 * option; printed once. In CI a missing prerequisite throws instead, failing the run.
 */
export const skip = (() => {
  const missing = missingPrerequisites();
  if (missing.length === 0) return undefined;
  const reason = `missing ${missing.join('; ')}`;
  if (inCi()) {
    throw new Error(`browser tests cannot run: ${reason}. CI is set: a missing prerequisite `
      + 'fails the run instead of skipping the tests');
  }
  console.error(`skipped: ${reason}`);
  return reason;
})();

/** A temporary directory, removed by the returned function. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'wirewatch-browser-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `wirewatch analyze --json` of `file` (the reference numbers). */
export function analyze(file) {
  const out = execFileSync(binary(), ['analyze', '--json', file], { maxBuffer: 64 << 20 });
  return JSON.parse(out.toString());
}

/**
 * Starts `wirewatch run ARGS --listen 127.0.0.1:0` and resolves once the dashboard listens:
 * `{ url, stderr(), stop() }`. `stop()` sends SIGINT and waits for the exit status.
 */
export function startWirewatch(args) {
  const child = spawn(binary(), ['run', ...args, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise((res) => child.on('exit', (code) => res(code)));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no dashboard URL after 20 s:\n${stderr}`)), 20000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /dashboard at (https?:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        res({
          url: m[1],
          stderr: () => stderr,
          stdout: () => stdout,
          stop: async () => {
            child.kill('SIGINT');
            return exited;
          },
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`wirewatch exited with ${code} before serving:\n${stderr}`));
    });
  });
}

/** Headless Chromium (Debian's package), with a page that records console errors. */
export async function launch() {
  const executablePath = chromiumPath();
  // Root (CI) cannot use Chromium's user-namespace sandbox.
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  return browser;
}

/** Opens `url` in a fresh page; collects console errors and page errors into `errors`. */
export async function open(browser, url, viewport = { width: 1400, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, errors };
}

/** Waits until the stat box `name` shows `value` (its raw `data-value`). */
export async function waitForStat(page, name, value, timeout = 15000) {
  await page.waitForFunction(
    ([n, v]) => document.querySelector(`[data-testid="stat-${n}"]`)?.dataset.value === String(v),
    [name, value],
    { timeout },
  );
}
