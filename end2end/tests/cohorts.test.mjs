// The training journey: an admin opens a one-place cohort; the first person enrols, the second
// is waitlisted; the first withdraws and the second is promoted by email; attendance is taken by
// the roster (keyboard only) and by self check-in; the certificate is issued by email and anyone
// verifies it without signing in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, hydrated, readMail, linkIn, uniqueEmail, inputTime, signIn } from './support.mjs';

const ADMIN_EMAIL = process.env.HATCHERY_E2E_ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.HATCHERY_E2E_ADMIN_PASSWORD;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

function inputDate(date) {
  return date.toISOString().slice(0, 10);
}

/// A new person in a browser context of their own: registered, verified and signed in.
async function newPerson(name, tag) {
  const context = await browser.newContext({ locale: 'en-US' });
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

/// Waits until the element's text matches: after a form, the page's data is fetched again.
async function waitText(page, selector, pattern) {
  await page.waitForFunction(
    ([sel, src]) => new RegExp(src).test(document.querySelector(sel)?.textContent ?? ''),
    [selector, pattern.source],
    { timeout: 15_000 },
  );
}

/// The newest email of a kind whose body matches, waiting for the worker to send it.
async function mailMatching(address, kind, pattern) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const mail = await readMail(address, { kind });
    if (pattern.test(mail.body) || Date.now() > deadline) return mail;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('enrol, waitlist, promotion by email, attendance, certificate, public verification', async () => {
  assert.ok(ADMIN_EMAIL, 'HATCHERY_E2E_ADMIN_EMAIL is set by scripts/test.sh');
  const title = `Fine-tuning LLMs ${Date.now()}`;
  const now = Date.now();

  // The admin creates a cohort with one place; a capacity of zero is refused in place.
  const adminContext = await browser.newContext({ locale: 'en-US' });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  await admin.goto(`${BASE}/admin/cohorts`);
  await hydrated(admin);
  await admin.click('[data-testid="new-cohort"]');
  await admin.waitForURL(/\/admin\/cohorts\/new$/);
  await hydrated(admin);
  await admin.fill('#f-title_en', title);
  await admin.fill('#f-title_zh', `大模型微调 ${now}`);
  await admin.selectOption('#f-track', 'ai_engineering');
  await admin.fill('#f-description_en', 'Two sessions on fine-tuning open models.');
  await admin.fill('#f-description_zh', '两节课学习开源模型微调。');
  await admin.fill('#f-capacity', '0');
  await admin.fill('#f-completion_percent', '100');
  await admin.fill('#f-enrol_opens_at', inputTime(new Date(now - 86400_000)));
  await admin.fill('#f-enrol_closes_at', inputTime(new Date(now + 7 * 86400_000)));
  await admin.fill('#f-starts_on', inputDate(new Date(now)));
  await admin.fill('#f-ends_on', inputDate(new Date(now + 14 * 86400_000)));
  await admin.fill('#f-location', 'Turing Town, Building 3, Room 201');
  await admin.click('[data-testid="save-cohort"]');
  await admin.waitForSelector('.banner.error');
  assert.match(await admin.textContent('.banner.error'), /number of places/);
  assert.equal(await admin.locator('.banner.error').getAttribute('data-field'), 'capacity');
  await admin.fill('#f-capacity', '1');
  await admin.click('[data-testid="save-cohort"]');
  await admin.waitForURL(/\/admin\/cohorts\/\d+\?notice=saved/);
  const cohortId = /\/admin\/cohorts\/(\d+)/.exec(admin.url())[1];
  await hydrated(admin);

  // Two sessions: one earlier today (taken by roster), one running now (self check-in).
  const addSession = async (starts, ends, topic) => {
    await admin.fill('form:has([data-testid="add-session"]) #f-starts_at', inputTime(starts));
    await admin.fill('form:has([data-testid="add-session"]) #f-ends_at', inputTime(ends));
    await admin.fill('form:has([data-testid="add-session"]) #f-topic', topic);
    await admin.fill('form:has([data-testid="add-session"]) #f-instructor', 'Dr. Wang');
    await admin.click('[data-testid="add-session"]');
    await admin.waitForSelector(`tr[data-session] >> text=${topic}`);
  };
  await addSession(new Date(now - 3 * 3600_000), new Date(now - 2 * 3600_000), 'Data preparation');
  await addSession(new Date(now - 10 * 60_000), new Date(now + 3600_000), 'LoRA in practice');

  // The first person enrols and takes the only place.
  const ann = await newPerson('Ann Learner', 'ann');
  await ann.page.goto(`${BASE}/cohorts`);
  await hydrated(ann.page);
  await ann.page.click(`.round-list a:has-text("${title}")`);
  await ann.page.waitForURL(new RegExp(`/cohorts/${cohortId}$`));
  await hydrated(ann.page);
  await ann.page.click('[data-testid="enrol"]');
  await ann.page.waitForURL(/notice=enrolled/);
  await ann.page.waitForSelector('[data-testid="my-place"] [data-enrolment="enrolled"]');

  // The second is waitlisted, first in line, and told so by email.
  const bo = await newPerson('Bo Learner', 'bo');
  await bo.page.goto(`${BASE}/cohorts/${cohortId}`);
  await hydrated(bo.page);
  assert.match(await bo.page.textContent('[data-testid="places"]'), /1 of 1 places taken/);
  await bo.page.click('[data-testid="enrol"]');
  await bo.page.waitForURL(/notice=waitlisted/);
  await bo.page.waitForSelector('[data-testid="my-place"] [data-enrolment="waitlisted"]');
  assert.match(await bo.page.textContent('[data-testid="my-status"]'), /number 1/);
  const waitMail = await readMail(bo.email, { kind: 'cohort' });
  assert.match(waitMail.body, /waitlist, number 1/);

  // Ann withdraws: Bo is promoted and emailed.
  await ann.page.click('[data-testid="withdraw"]');
  await ann.page.waitForURL(/notice=enrolment_withdrawn/);
  await ann.page.waitForSelector('[data-testid="my-place"] [data-enrolment="withdrawn"]');
  assert.match((await mailMatching(bo.email, 'cohort', /it is yours/)).body, /it is yours/);
  await bo.page.goto(`${BASE}/cohorts/${cohortId}`);
  await hydrated(bo.page);
  await bo.page.waitForSelector('[data-testid="my-place"] [data-enrolment="enrolled"]');

  // The admin takes the earlier session's attendance with the keyboard only.
  await admin.goto(`${BASE}/admin/cohorts/${cohortId}`);
  await hydrated(admin);
  await admin.click('tr[data-session]:has-text("Data preparation") [data-testid="take-attendance"]');
  await admin.waitForURL(/\/admin\/sessions\/\d+$/);
  await hydrated(admin);
  const row = admin.locator(`tr[data-person="${bo.email}"] input[type="checkbox"]`);
  await row.focus();
  await admin.keyboard.press('Space');
  assert.equal(await row.isChecked(), true);
  // Tab leaves the last box for the save button; Enter saves.
  await admin.keyboard.press('Tab');
  await admin.keyboard.press('Enter');
  await admin.waitForURL(/notice=attendance_saved/);
  await waitText(admin, '[data-testid="present-count"]', /1 of 1 present/);

  // The code of the session running now, as shown in the room.
  await admin.goto(`${BASE}/admin/cohorts/${cohortId}`);
  await hydrated(admin);
  const code = (await admin.textContent('tr[data-session]:has-text("LoRA in practice") [data-testid="checkin-code"]')).trim();
  assert.match(code, /^[A-Z0-9]{6}$/);

  // Bo checks in: a wrong code is refused in place; the right one completes the cohort.
  await bo.page.fill('#f-code', 'ZZZZZZ' === code ? 'YYYYYY' : 'ZZZZZZ');
  await bo.page.click('[data-testid="check-in"]');
  await bo.page.waitForSelector('.banner.error');
  assert.match(await bo.page.textContent('.banner.error'), /does not match/);
  await bo.page.fill('#f-code', code.toLowerCase());
  await bo.page.click('[data-testid="check-in"]');
  await bo.page.waitForURL(/notice=checked_in/);
  await bo.page.waitForSelector('[data-testid="my-place"] [data-enrolment="completed"]');

  // The certificate arrives by email; its page shows Bo's name and the code.
  const certMail = await readMail(bo.email, { kind: 'certificate', timeoutMs: 20_000 });
  const link = /https?:\/\/\S+\/certificates\/HC-[0-9A-Z-]+/.exec(certMail.body)?.[0];
  assert.ok(link, certMail.body);
  await bo.page.goto(link.replace(/^https?:\/\/[^/]+/, BASE));
  await hydrated(bo.page);
  assert.equal((await bo.page.textContent('[data-testid="holder"]')).trim(), 'Bo Learner');
  const certCode = (await bo.page.textContent('[data-testid="code"]')).trim();
  assert.match(certCode, /^HC-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  // Bo's dashboard lists it.
  await bo.page.goto(`${BASE}/dashboard`);
  await hydrated(bo.page);
  await bo.page.waitForSelector(`[data-testid="my-training"] [data-certificate="${certCode}"]`);

  // Anyone, signed out, verifies the code; a wrong one is not confirmed.
  const publicContext = await browser.newContext({ locale: 'en-US' });
  const visitor = await publicContext.newPage();
  await visitor.goto(`${BASE}/verify-certificate`);
  await hydrated(visitor);
  await visitor.fill('#f-code', 'HC-0000-0000-0000');
  await visitor.click('[data-testid="verify"]');
  await visitor.waitForSelector('[data-testid="not-verified"]');
  await visitor.fill('#f-code', certCode.toLowerCase());
  await visitor.click('[data-testid="verify"]');
  await visitor.waitForSelector('[data-testid="verified"]');
  assert.match(await visitor.textContent('[data-testid="verified"]'), /Bo Learner/);
  assert.match(await visitor.textContent('[data-testid="certificate"]'), new RegExp(title));

  // The admin's cohort page: full, nobody waiting, one completed, the attendance chart drawn.
  await admin.goto(`${BASE}/admin/cohorts/${cohortId}`);
  await hydrated(admin);
  assert.equal((await admin.textContent('[data-testid="fill-rate"]')).trim(), '100 %');
  assert.equal((await admin.textContent('[data-testid="completed-count"]')).trim(), '1');
  assert.equal(await admin.locator('[data-testid="attendance-chart"] g[data-present="1"]').count(), 2);

  await Promise.all([adminContext.close(), ann.context.close(), bo.context.close(), publicContext.close()]);
});
