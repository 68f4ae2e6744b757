// The account journey in a real Chromium: with the wasm bundle, and with JavaScript off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, hydrated, readMail, linkIn, uniqueEmail } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('register → verify by the emailed link → sign in → switch to 中文 → sign out (hydrated)', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const email = uniqueEmail('hydrated');

  await page.goto(`${BASE}/register`);
  await hydrated(page);

  // Only the bundle's island can do this: the show/hide button flips the password field.
  const password = page.locator('#f-password');
  assert.equal(await password.getAttribute('type'), 'password');
  await page.click('[data-testid="toggle-password"]');
  assert.equal(await password.getAttribute('type'), 'text');
  await page.click('[data-testid="toggle-password"]');

  // Bad input: a clear message, the page's own address kept.
  await page.fill('#f-name', 'Ada Founder');
  await page.fill('#f-email', 'not-an-email');
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForSelector('.banner.error');
  assert.match(await page.textContent('.banner.error'), /does not look right/);
  assert.equal(new URL(page.url()).pathname, '/register');

  await page.fill('#f-email', email);
  await page.fill('#f-password', 'short');
  await page.click('main button[type="submit"]');
  await page.waitForFunction(() => document.querySelector('.banner.error')?.textContent.includes('at least 10'));

  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/login\?notice=registered/);
  assert.match(await page.textContent('[data-notice="registered"]'), /Your account is ready/);

  const mail = await readMail(email, { kind: 'verify' });
  assert.match(mail.headers, /Subject: Confirm your email address for Hatchery/);
  await page.goto(linkIn(mail.body, '/verify?token='));
  await hydrated(page);
  await page.click('[data-testid="verify"]');
  await page.waitForURL(/\/login\?notice=verified/);

  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/dashboard$/);
  await page.waitForSelector('[data-testid="dashboard-title"]');
  assert.equal(await page.textContent('[data-testid="dashboard-title"]'), 'Welcome, Ada Founder');

  await page.click('[data-testid="lang-zh-CN"]');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await page.waitForSelector('[data-testid="dashboard-title"]');
  assert.equal(await page.textContent('[data-testid="dashboard-title"]'), '欢迎，Ada Founder');
  assert.match(await page.textContent('header'), /退出登录/);

  await page.click('[data-testid="logout"]');
  await page.waitForURL(/\/\?notice=signed_out/);
  assert.match(await page.textContent('[data-notice="signed_out"]'), /您已退出登录/);
  assert.match(await page.textContent('header'), /登录/);
  await context.close();

  // Signing in from an English page (another browser): the dashboard comes in the account's language,
  // not the page's.
  const other = await browser.newContext({ locale: 'en-US' });
  const page2 = await other.newPage();
  await page2.goto(`${BASE}/login`);
  await hydrated(page2);
  assert.equal(await page2.evaluate(() => document.documentElement.lang), 'en');
  await page2.fill('#f-email', email);
  await page2.fill('#f-password', 'correct horse battery');
  await page2.click('main button[type="submit"]');
  await page2.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await page2.waitForSelector('[data-testid="dashboard-title"]');
  assert.equal(await page2.textContent('[data-testid="dashboard-title"]'), '欢迎，Ada Founder');
  await other.close();
});

test('the same registration with JavaScript disabled', async () => {
  const context = await browser.newContext({ locale: 'en-US', javaScriptEnabled: false });
  const page = await context.newPage();
  const email = uniqueEmail('nojs');

  await page.goto(`${BASE}/register`);
  assert.equal(await page.locator('body[data-hydrated]').count(), 0);

  // The server answers bad input by sending the form back with the message.
  await page.fill('#f-name', '');
  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForSelector('.banner.error');
  assert.match(await page.textContent('.banner.error'), /Please enter your name/);

  await page.fill('#f-name', 'Lin Nojs');
  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/login\?notice=registered/);

  const mail = await readMail(email, { kind: 'verify' });
  await page.goto(linkIn(mail.body, '/verify?token='));
  await page.click('[data-testid="verify"]');
  await page.waitForURL(/\/login\?notice=verified/);

  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/dashboard$/);
  assert.equal(await page.textContent('[data-testid="dashboard-title"]'), 'Welcome, Lin Nojs');

  // A duplicate account is refused, in the reader's language.
  await page.click('[data-testid="lang-zh-CN"]');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  await page.click('[data-testid="logout"]');
  await page.waitForURL(/\/\?notice=signed_out/);
  await page.goto(`${BASE}/register`);
  await page.fill('#f-name', 'Lin Again');
  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForSelector('.banner.error');
  assert.match(await page.textContent('.banner.error'), /该邮箱已注册账号/);
  await context.close();
});
