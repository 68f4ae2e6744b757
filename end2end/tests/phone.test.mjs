// Every role's main pages on a phone (390 × 844): the navigation folds into a menu, nothing
// makes the page scroll sideways (tables scroll inside their card), and axe-core finds no
// serious or critical accessibility violation on any page family. Runs after the intake
// journey (files run in name order), so the lists have rows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE, PHONE, launch, hydrated, readMail, linkIn, uniqueEmail, signIn, newPerson, axeViolations, fitsWidth,
} from './support.mjs';

const ADMIN_EMAIL = process.env.HATCHERY_E2E_ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.HATCHERY_E2E_ADMIN_PASSWORD;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/// The page fits the phone's width and axe-core finds nothing serious on it.
async function check(page, label) {
  await hydrated(page);
  const fit = await fitsWidth(page);
  assert.ok(fit.ok, `${label} is wider than the phone: ${fit.wide.join(', ')}`);
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${label}: ${JSON.stringify(violations)}`);
}

/// Follows a link of the folded navigation: the menu opens, the link is followed, it closes.
async function viaMenu(page, href) {
  const link = page.locator(`.main-nav a[href="${href}"]`);
  assert.equal(await link.isVisible(), false, 'the links are folded away');
  await page.click('[data-testid="nav-toggle"]');
  await link.waitFor({ state: 'visible' });
  await link.click();
  await page.waitForURL(new RegExp(`${href.replace(/\//g, '\\/')}$`));
  await page.waitForFunction(() => !document.querySelector('.nav-menu')?.open);
}

test('an admin’s pages on a desktop: axe-core finds nothing serious either', async () => {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  // On a wide screen the links are shown and the menu toggle is not.
  assert.equal(await page.locator('[data-testid="nav-toggle"]').isVisible(), false);
  assert.equal(await page.locator('.main-nav a[href="/admin/grants"]').isVisible(), true);
  for (const path of ['/dashboard', '/admin/grants', '/admin/startups', '/admin/users', '/admin/report', '/cohorts']) {
    await page.goto(`${BASE}${path}`);
    await check(page, `${path} (desktop)`);
  }
  await context.close();
});

test('an admin’s pages on a phone', async () => {
  assert.ok(ADMIN_EMAIL, 'HATCHERY_E2E_ADMIN_EMAIL is set by scripts/test.sh');
  const context = await browser.newContext({ locale: 'en-US', viewport: PHONE });
  const page = await context.newPage();
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await check(page, '/dashboard');
  // The header is one row on a phone: brand, menu toggle, languages.
  const header = await page.locator('.site-header').boundingBox();
  assert.ok(header.height < 140, `header is ${header.height}px high`);
  await viaMenu(page, '/admin/grants');
  await check(page, '/admin/grants');
  await viaMenu(page, '/admin/startups');
  await check(page, '/admin/startups');
  for (const path of [
    '/admin/rounds', '/admin/applications', '/admin/cohorts', '/admin/ledger', '/admin/resources',
    '/admin/sync', '/admin/users', '/admin/outbox', '/admin/audit', '/admin/api-tokens',
    '/admin/report?from=2026-01-01&to=2026-12-31', '/admin/rounds/new', '/admin/grants/new',
  ]) {
    await page.goto(`${BASE}${path}`);
    await check(page, path);
  }
  // The report's boxes show the range it covers, after the page has come to life.
  await page.goto(`${BASE}/admin/report?from=2026-01-01&to=2026-12-31`);
  await hydrated(page);
  await page.waitForSelector('[data-testid="kpi-report"]');
  assert.equal(await page.inputValue('#f-from'), '2026-01-01');
  assert.equal(await page.inputValue('#f-to'), '2026-12-31');
  // A detail page with wide tables: the first startup and the first round's decision board.
  await page.goto(`${BASE}/admin/startups`);
  await hydrated(page);
  const startup = await page.locator('main a[href^="/startups/"]').first().getAttribute('href');
  await page.goto(`${BASE}${startup}`);
  await check(page, startup);
  await page.goto(`${BASE}/admin/rounds`);
  await hydrated(page);
  const round = await page.evaluate(() => [...document.querySelectorAll('main a[href^="/admin/rounds/"]')]
    .map((a) => a.getAttribute('href')).find((h) => /^\/admin\/rounds\/\d+$/.test(h)));
  assert.ok(round, 'the intake journey left a round');
  for (const path of [round, `${round}/decisions`, `${round}/applications`]) {
    await page.goto(`${BASE}${path}`);
    await check(page, path);
  }
  await context.close();
});

test('an applicant’s and a founder’s pages on a phone', async () => {
  const { context, page } = await newPerson(browser, 'Pho Ne', 'phone', { viewport: PHONE });
  await check(page, '/dashboard');
  await viaMenu(page, '/startup');
  await check(page, '/startup');
  // Saving the profile works at this size; its errors show at their fields.
  await page.fill('#f-name', 'Pocket AI');
  await page.fill('#f-team_size', '0');
  await page.click('main form.form button[type="submit"]');
  await page.waitForSelector('#f-team_size[aria-invalid="true"]');
  await check(page, '/startup with errors');
  await page.fill('#f-team_size', '3');
  await page.fill('#f-founders', 'Pho Ne');
  await page.click('main form.form button[type="submit"]');
  await page.waitForURL(/\/startup\?notice=saved/);
  for (const path of ['/applications', '/credits', '/cohorts', '/account', '/']) {
    await page.goto(`${BASE}${path}`);
    await check(page, path);
  }
  await context.close();
});

test('a mentor’s pages on a phone', async () => {
  const adminContext = await browser.newContext({ locale: 'en-US', viewport: PHONE });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  const email = uniqueEmail('phone-mentor');
  await admin.goto(`${BASE}/admin/users`);
  await hydrated(admin);
  await admin.fill('#f-email', email);
  await admin.selectOption('#f-role', 'mentor');
  await admin.click('main form.form button[type="submit"]');
  await admin.waitForURL(/notice=invitation_sent/);
  await adminContext.close();

  const context = await browser.newContext({ locale: 'zh-CN', viewport: PHONE });
  const page = await context.newPage();
  const invitation = await readMail(email, { kind: 'invite' });
  await page.goto(linkIn(invitation.body, '/invite?token='));
  await check(page, '/invite');
  await page.fill('#f-name', 'Men Tor');
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/notice=invitation_accepted/);
  await signIn(page, email, 'correct horse battery');
  await check(page, '/dashboard (中文)');
  await viaMenu(page, '/reviews');
  await check(page, '/reviews (中文)');
  await page.goto(`${BASE}/mentoring`);
  await check(page, '/mentoring (中文)');
  await context.close();
});
