// Forms that help, in a real Chromium: page titles, every field's error at once with focus on
// the first, a rejected form without JavaScript drawn again with what was typed, and buttons
// that cannot be pressed twice while their form is being sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, hydrated, uniqueEmail } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('every page has a title of its own, in the reader’s language, also after following a link', async () => {
  const en = await browser.newContext({ locale: 'en-US' });
  const page = await en.newPage();
  await page.goto(`${BASE}/login`);
  await hydrated(page);
  assert.equal(await page.title(), 'Sign in · Hatchery');
  await page.click('main a[href="/register"]');
  await page.waitForURL(/\/register$/);
  await page.waitForFunction(() => document.title === 'Create an account · Hatchery');
  await page.goto(`${BASE}/cohorts`);
  assert.equal(await page.title(), 'Training cohorts · Hatchery');
  await page.goto(`${BASE}/no/such/page`);
  assert.equal(await page.title(), 'Page not found · Hatchery');
  await en.close();

  const zh = await browser.newContext({ locale: 'zh-CN' });
  const zpage = await zh.newPage();
  await zpage.goto(`${BASE}/login`);
  assert.equal(await zpage.title(), '登录 · Hatchery');
  await zh.close();
});

test('an empty form names every field at fault, marks them, and moves focus to the first', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${BASE}/register`);
  await hydrated(page);
  await page.click('main button[type="submit"]');
  await page.waitForSelector('.banner.error li');
  const banner = await page.textContent('.banner.error');
  assert.match(banner, /Please correct these 3 fields/);
  assert.equal(await page.locator('.banner.error li').count(), 3);
  for (const field of ['name', 'email', 'password']) {
    const input = page.locator(`#f-${field}`);
    assert.equal(await input.getAttribute('aria-invalid'), 'true', field);
    const described = await input.getAttribute('aria-describedby');
    assert.ok(described.split(' ').includes(`f-${field}-error`), `${field}: ${described}`);
    assert.ok((await page.textContent(`#f-${field}-error`)).length > 0);
  }
  // The page is drawn again by the server with the first field at fault `autofocus`.
  await page.waitForFunction(() => document.activeElement?.id === 'f-name', null, { timeout: 5_000 });

  // Fixing one field clears its mark; the others stay, and focus goes to the next one at fault.
  await page.fill('#f-name', 'Ada Fields');
  await page.click('main button[type="submit"]');
  await page.waitForFunction(() => document.querySelector('#f-name')?.getAttribute('aria-invalid') === null);
  assert.equal(await page.locator('#f-email').getAttribute('aria-invalid'), 'true');
  await page.waitForFunction(() => document.activeElement?.id === 'f-email', null, { timeout: 5_000 });

  // In Chinese, the same.
  const zh = await browser.newContext({ locale: 'zh-CN' });
  const zpage = await zh.newPage();
  await zpage.goto(`${BASE}/register`);
  await hydrated(zpage);
  await zpage.click('main button[type="submit"]');
  await zpage.waitForSelector('.banner.error li');
  assert.match(await zpage.textContent('.banner.error'), /请修改以下 3 项/);
  await zh.close();
  await context.close();
});

test('without JavaScript, a rejected form comes back with what was typed, and the address does not grow', async () => {
  const context = await browser.newContext({ locale: 'en-US', javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${BASE}/register`);
  await page.fill('#f-name', 'Lin Typed');
  await page.fill('#f-email', 'not-an-email');
  await page.fill('#f-password', 'correct horse battery');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/') && r.request().method() === 'POST'),
    page.click('main button[type="submit"]'),
  ]);
  assert.equal(response.status(), 422);
  await page.waitForSelector('.banner.error');
  assert.match(await page.textContent('.banner.error'), /does not look right/);
  assert.equal(await page.inputValue('#f-name'), 'Lin Typed');
  assert.equal(await page.inputValue('#f-email'), 'not-an-email');
  // Passwords are never sent back.
  assert.equal(await page.inputValue('#f-password'), '');
  assert.equal(await page.locator('#f-email').getAttribute('aria-invalid'), 'true');

  // Again, with another mistake: still one error, the new one, and the name still there.
  await page.fill('#f-email', uniqueEmail('nojs-form'));
  await page.fill('#f-password', 'short');
  await page.click('main button[type="submit"]');
  await page.waitForFunction(() => document.querySelector('.banner.error')?.textContent.includes('at least 10'));
  assert.equal(await page.inputValue('#f-name'), 'Lin Typed');
  assert.equal(await page.locator('.banner.error').count(), 1);
  await context.close();
});

test('before the bundle has loaded, a rejected form keeps the page’s address, with one error in it', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  // The wasm bundle never arrives (a slow link): forms are plain HTML forms.
  await page.route('**/*.wasm', (route) => route.abort());
  await page.goto(`${BASE}/register`);
  for (let i = 0; i < 3; i++) {
    await page.fill('#f-name', `Try ${i}`);
    await page.fill('#f-email', 'nope');
    await page.click('main button[type="submit"]');
    await page.waitForLoadState('load');
    await page.waitForSelector('.banner.error');
  }
  const url = new URL(page.url());
  assert.equal(url.pathname, '/register');
  assert.equal(url.searchParams.getAll('__err').length, 1);
  assert.equal(url.searchParams.getAll('__path').length, 1);
  assert.equal(await page.inputValue('#f-name'), 'Try 2');
  await context.close();
});

test('a submit button is busy and cannot be pressed twice while its form is being sent', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${BASE}/forgot`);
  await hydrated(page);
  let requests = 0;
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/forgot_password*', async (route) => {
    requests += 1;
    await held;
    await route.continue();
  });
  await page.fill('#f-email', uniqueEmail('busy'));
  // Pressed from the page (Playwright's own click would wait for the held navigation), then
  // pressed again and the form sent again by Enter: neither goes out.
  // (However this ends, the held request is let go, so a failure cannot hang the run.)
  const pressed = await page.evaluate(() => {
    const form = document.querySelector('main form[method="post"]');
    const button = form.querySelector('button[type="submit"]');
    let prevented = 0;
    window.addEventListener('submit', (e) => { if (e.defaultPrevented) prevented += 1; });
    button.click();
    const state = { busy: button.getAttribute('aria-busy'), disabled: button.disabled };
    button.click();
    form.requestSubmit();
    return { ...state, prevented };
  }).finally(release);
  assert.deepEqual(pressed, { busy: 'true', disabled: true, prevented: 1 });
  await page.waitForURL(/notice=reset_sent/);
  await page.waitForFunction(() => document.querySelector('main button[type="submit"]')?.getAttribute('aria-busy') !== 'true');
  assert.equal(requests, 1);
  await context.close();

  // A plain GET form (a filter) is marked busy too when it navigates.
  const plain = await browser.newContext({ locale: 'en-US' });
  const p2 = await plain.newPage();
  await p2.goto(`${BASE}/verify-certificate`);
  await hydrated(p2);
  await p2.route((url) => url.pathname === '/verify-certificate' && url.searchParams.has('code'), async (route) => {
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await p2.fill('main input[name="code"]', 'NOPE-NOPE');
  // Pressed twice and sent again by Enter (Playwright's own click would wait for the next
  // page): one navigation.
  const marks = await p2.evaluate(() => {
    const button = document.querySelector('main button[type="submit"]');
    button.click();
    const first = button.getAttribute('aria-busy');
    let second = 0;
    window.addEventListener('submit', (e) => { if (e.defaultPrevented) second += 1; });
    button.click();
    button.form.requestSubmit();
    return { first, disabled: button.disabled, second };
  });
  assert.deepEqual(marks, { first: 'true', disabled: true, second: 1 });
  await p2.waitForLoadState('load');
  await plain.close();
});
