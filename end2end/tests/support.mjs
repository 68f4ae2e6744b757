// Shared helpers: launching Debian's Chromium, and reading Hatchery's .eml outbox files.
import { chromium } from 'playwright-core';
import fs from 'node:fs/promises';
import path from 'node:path';

export const BASE = process.env.HATCHERY_E2E_URL ?? 'http://127.0.0.1:3100';
export const MAIL_DIR = process.env.HATCHERY_E2E_MAIL_DIR;

export async function launch() {
  // Playwright gives every launch a fresh, empty profile directory of its own.
  const browser = await chromium.launch({
    executablePath: process.env.HATCHERY_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return browser;
}

/// Waits until the wasm bundle has hydrated the page.
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}

function decodeBody(headers, body) {
  const cte = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase() ?? '7bit';
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    const bytes = [];
    for (let i = 0; i < soft.length; i++) {
      if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(soft[i], 'utf8'));
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

/// The newest email to `address` among the .eml files, decoded; waits for the worker to write it.
export async function readMail(address, { kind, timeoutMs = 15_000 } = {}) {
  if (!MAIL_DIR) throw new Error('HATCHERY_E2E_MAIL_DIR is not set');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let names = [];
    try { names = (await fs.readdir(MAIL_DIR)).filter((n) => n.endsWith('.eml')); } catch { /* not yet */ }
    names.sort().reverse();
    for (const name of names) {
      if (kind && !name.endsWith(`-${kind}.eml`)) continue;
      const raw = await fs.readFile(path.join(MAIL_DIR, name), 'utf8');
      const split = raw.search(/\r?\n\r?\n/);
      const headers = raw.slice(0, split);
      if (!headers.toLowerCase().includes(address.toLowerCase())) continue;
      return { file: name, headers, body: decodeBody(headers, raw.slice(split).trim()) };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no email to ${address} in ${MAIL_DIR}`);
}

export function linkIn(body, pathPrefix) {
  const m = new RegExp(`https?://[^\\s]+${pathPrefix.replace(/[?]/g, '\\?')}[0-9a-f]+`).exec(body);
  if (!m) throw new Error(`no ${pathPrefix} link in:\n${body}`);
  return m[0];
}

export function uniqueEmail(tag) {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/// A moment's calendar parts (year, month, day, hour, minute, zero-padded) in the park's time
/// zone: the server under test runs with the default, Asia/Shanghai.
export function parkParts(date, zone = 'Asia/Shanghai') {
  return Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(date).map((p) => [p.type, p.value]),
  );
}

/// A `datetime-local` value as Hatchery's forms read it: in the park's time zone for a person
/// who chose none of their own.
export function inputTime(date, zone = 'Asia/Shanghai') {
  const parts = parkParts(date, zone);
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/// Signs in on the login page and waits for the dashboard.
export async function signIn(page, email, password) {
  await page.goto(`${BASE}/login`);
  await hydrated(page);
  await page.fill('#f-email', email);
  await page.fill('#f-password', password);
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/dashboard$/);
}

/// A phone's screen (an iPhone 12–15's CSS size).
export const PHONE = { width: 390, height: 844 };

/// A new person in a browser context of their own: registered, verified and signed in.
export async function newPerson(browser, name, tag, { viewport } = {}) {
  const context = await browser.newContext({ locale: 'en-US', ...(viewport ? { viewport } : {}) });
  const page = await context.newPage();
  const email = uniqueEmail(tag);
  await page.goto(`${BASE}/register`);
  await hydrated(page);
  await page.fill('#f-name', name);
  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/login\?notice=registered/);
  const verify = await readMail(email, { kind: 'verify' });
  await page.goto(linkIn(verify.body, '/verify?token='));
  await hydrated(page);
  await page.click('[data-testid="verify"]');
  await page.waitForURL(/notice=verified/);
  await signIn(page, email, 'correct horse battery');
  return { context, page, email };
}

/// axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA rules).
/// Evaluated through the DevTools protocol, which the page's Content-Security-Policy allows.
export async function axeViolations(page) {
  const { default: axe } = await import('axe-core');
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.evaluate(axe.source);
  }
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/// The page does not scroll sideways: nothing is wider than the screen.
export async function fitsWidth(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => !e.closest('.table-scroll') || e.classList.contains('table-scroll'))
      .filter((e) => e.getBoundingClientRect().right > width + 1)
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`);
    return { ok: document.documentElement.scrollWidth <= width, wide: wide.slice(0, 5) };
  });
}
