// The intake journey: an admin opens a round with a rubric; an applicant applies with a co-founder;
// two invited mentors, one of them affiliated with the startup; automatic assignment; review; decision.
// It expects a fresh server (as scripts/test.sh starts): its mentors must be the only ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, hydrated, readMail, linkIn, uniqueEmail, inputTime, signIn } from './support.mjs';

const ADMIN_EMAIL = process.env.HATCHERY_E2E_ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.HATCHERY_E2E_ADMIN_PASSWORD;

let browser;
// The first journey's applicant, admitted at its end; the second journey grants them credit.
let admitted = null;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/// A valid unified social credit code (GB 32100-2015), different every run.
function creditCode() {
  const cs = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  let body = '91110000';
  while (body.length < 17) body += cs[Math.floor(Math.random() * 10)];
  const sum = [...body].reduce((acc, c, i) => acc + cs.indexOf(c) * weights[i], 0);
  return body + cs[(31 - (sum % 31)) % 31];
}

test('an admin opens a round; a team applies; mentors are assigned automatically and review; the admin decides', async () => {
  assert.ok(ADMIN_EMAIL, 'HATCHERY_E2E_ADMIN_EMAIL is set by scripts/test.sh');
  const title = `Turing Town ${Date.now()}`;

  // The admin, in their own browser context.
  const adminContext = await browser.newContext({ locale: 'en-US' });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  await admin.goto(`${BASE}/admin/rounds`);
  await hydrated(admin);
  await admin.click('[data-testid="new-round"]');
  await admin.waitForURL(/\/admin\/rounds\/new$/);
  await hydrated(admin);
  await admin.fill('#f-title_en', title);
  await admin.fill('#f-title_zh', `${title} 批次`);
  await admin.fill('#f-description_en', 'For startups training foundation models.');
  await admin.fill('#f-description_zh', '面向训练基础模型的创业企业。');
  const now = Date.now();
  await admin.fill('#f-opens_at', inputTime(new Date(now - 3600_000)));
  // First a window that ends before it starts: refused in place.
  await admin.fill('#f-closes_at', inputTime(new Date(now - 7200_000)));
  await admin.click('[data-testid="save-round"]');
  await admin.waitForSelector('.banner.error');
  assert.match(await admin.textContent('.banner.error'), /must close after it opens/);
  await admin.fill('#f-closes_at', inputTime(new Date(now + 30 * 86400_000)));
  await admin.click('[data-testid="save-round"]');
  await admin.waitForURL(/\/admin\/rounds\/\d+\?notice=saved/);
  await hydrated(admin);
  await admin.fill('#f-name_en', 'Technology');
  await admin.fill('#f-name_zh', '技术');
  await admin.fill('#f-weight', '3');
  await admin.click('[data-testid="add-criterion"]');
  await admin.waitForSelector('.rubric li');
  assert.match(await admin.textContent('.rubric'), /Technology \/ 技术/);
  // The add form is empty again, ready for the next criterion.
  await admin.waitForFunction(() => document.querySelector('#f-name_en')?.value === '');
  assert.equal(await admin.inputValue('#f-weight'), '1');
  const roundUrl = admin.url().replace(/\?.*$/, '');

  // The applicant, in another context.
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const email = uniqueEmail('applicant');
  await page.goto(`${BASE}/register`);
  await hydrated(page);
  await page.fill('#f-name', 'Ada Founder');
  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/login\?notice=registered/);
  const verify = await readMail(email, { kind: 'verify' });
  await page.goto(linkIn(verify.body, '/verify?token='));
  await hydrated(page);
  await page.click('[data-testid="verify"]');
  await page.waitForURL(/notice=verified/);
  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/dashboard$/);

  // The round is on the landing page; applying first asks for the startup profile.
  await page.goto(BASE);
  await hydrated(page);
  const card = page.locator('.round-list li', { hasText: title });
  await card.locator('a.button').click();
  await page.waitForSelector('[data-testid="startup-required"]');
  const applyUrl = page.url();
  await page.click('[data-testid="startup-required"] a');
  await page.waitForURL(/\/startup$/);
  await hydrated(page);
  await page.fill('#f-name', 'DeepPark AI');
  const code = creditCode();
  // One wrong character: the check character catches it.
  await page.fill('#f-credit_code', code.slice(0, 17) + (code[17] === '0' ? '1' : '0'));
  await page.selectOption('#f-sector', 'foundation_models');
  await page.selectOption('#f-stage', 'seed');
  await page.fill('#f-team_size', '8');
  await page.fill('#f-founders', 'Ada Founder (CEO)');
  await page.click('main button[type="submit"]');
  await page.waitForSelector('.banner.error');
  assert.match(await page.textContent('.banner.error'), /unified social credit code/);
  await page.fill('#f-credit_code', code);
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/startup\?notice=saved/);

  await page.goto(applyUrl);
  await hydrated(page);
  await page.fill('#f-problem', 'Legal review is slow.');
  await page.fill('#f-models_data', 'A 7B model fine-tuned on public judgements.');
  await page.click('[data-testid="save-draft"]');
  await page.waitForURL(/notice=draft_saved/);
  await hydrated(page);
  // Submitting the incomplete draft names what is missing.
  await page.click('[data-testid="submit-application"]');
  await page.waitForSelector('.banner.error');
  assert.match(await page.textContent('.banner.error'), /Please fill in this field/);
  assert.equal(await page.locator('.banner.error').getAttribute('data-field'), 'solution');
  await page.fill('#f-solution', 'Retrieval plus a fine-tuned model.');
  await page.fill('#f-gpu_model', 'H100');
  await page.fill('#f-gpu_hours', '4000');
  await page.fill('#f-team', 'Six engineers and two lawyers.');
  await page.click('[data-testid="submit-application"]');
  await page.waitForURL(/\/applications\/\d+\?notice=submitted/);
  await page.waitForSelector('[data-testid="timeline"] li[data-status="submitted"]');
  assert.match(await page.textContent('main'), /DeepPark AI/);

  const confirmation = await readMail(email, { kind: 'submitted' });
  assert.match(confirmation.body, new RegExp(title));

  // The founder invites a co-founder, who joins the team from the emailed link.
  const cofounderEmail = uniqueEmail('cofounder');
  await page.goto(`${BASE}/startup`);
  await hydrated(page);
  await page.fill('#team #f-email', cofounderEmail);
  await page.click('[data-testid="invite-cofounder"]');
  await page.waitForSelector(`tr[data-pending="${cofounderEmail}"]`);
  const teamInvite = await readMail(cofounderEmail, { kind: 'team_invite' });
  assert.match(teamInvite.body, /DeepPark AI/);
  const cofounderContext = await browser.newContext({ locale: 'en-US' });
  const cofounder = await cofounderContext.newPage();
  await cofounder.goto(linkIn(teamInvite.body, '/invite?token='));
  await hydrated(cofounder);
  assert.match(await cofounder.textContent('main'), /join the team of DeepPark AI/);
  await cofounder.fill('#f-name', 'Bo Cofounder');
  await cofounder.fill('#f-password', 'cofounder password 1');
  await cofounder.click('main button[type="submit"]');
  await cofounder.waitForURL(/notice=invitation_accepted/);
  await signIn(cofounder, cofounderEmail, 'cofounder password 1');
  await cofounder.goto(`${BASE}/applications`);
  await hydrated(cofounder);
  assert.match(await cofounder.textContent('main'), new RegExp(title));

  // The admin invites two mentors, who join by their emailed links.
  async function inviteMentor(name, password) {
    const mentorEmail = uniqueEmail('mentor');
    await admin.goto(`${BASE}/admin/users`);
    await hydrated(admin);
    await admin.fill('#f-email', mentorEmail);
    await admin.selectOption('#f-role', 'mentor');
    await admin.click('main form.form button[type="submit"]');
    await admin.waitForURL(/notice=invitation_sent/);
    const invitation = await readMail(mentorEmail, { kind: 'invite' });
    const mentorContext = await browser.newContext({ locale: 'en-US' });
    const mentor = await mentorContext.newPage();
    await mentor.goto(linkIn(invitation.body, '/invite?token='));
    await hydrated(mentor);
    await mentor.fill('#f-name', name);
    await mentor.fill('#f-password', password);
    await mentor.click('main button[type="submit"]');
    await mentor.waitForURL(/notice=invitation_accepted/);
    await signIn(mentor, mentorEmail, password);
    return { mentorEmail, mentorContext, mentor };
  }
  const { mentorEmail, mentorContext, mentor } = await inviteMentor('Mentor Grace', 'mentor password 1');
  const second = await inviteMentor('Mentor Linus', 'mentor password 2');

  // The second mentor invested in DeepPark and declares it.
  await second.mentor.goto(`${BASE}/reviews`);
  await hydrated(second.mentor);
  await second.mentor.fill('#f-affiliations', 'Tsinghua University\nDeepPark AI (investor)');
  await second.mentor.click('[data-testid="save-affiliations"]');
  await second.mentor.waitForURL(/notice=saved/);
  await second.mentor.waitForSelector('details summary:has-text("Declared affiliations: 2")');

  // Automatic assignment gives the application the one mentor free of conflicts, and says
  // that it is still short of the two the round asks for.
  await admin.goto(`${roundUrl}/applications`);
  await hydrated(admin);
  const row = admin.locator('tr', { hasText: 'DeepPark AI' });
  assert.equal(await row.locator('[data-testid="short"]').count(), 1);
  await admin.click('[data-testid="auto-assign"]');
  await admin.waitForURL(/notice=auto_assigned_short/);
  await admin.waitForSelector('li[data-status="assigned"]');
  assert.match(await row.locator('ul.plain').textContent(), /Mentor Grace/);
  assert.doesNotMatch(await row.locator('ul.plain').textContent(), /Mentor Linus/);
  // Assigning the affiliated mentor by hand is refused, with the reason.
  await hydrated(admin);
  await row.locator('select[name="mentor_id"]').selectOption({ label: `Mentor Linus <${second.mentorEmail}>` });
  await row.locator('[data-testid="assign"]').click();
  await admin.waitForSelector('tr .banner.error');
  assert.match(await row.textContent(), /declared an affiliation/);
  const batch = await readMail(mentorEmail, { kind: 'assigned_batch' });
  assert.match(batch.body, /assigned 1 application/);
  await second.mentor.goto(`${BASE}/reviews`);
  await hydrated(second.mentor);
  assert.match(await second.mentor.textContent('main'), /Nothing to review right now/);
  await second.mentorContext.close();

  // The mentor scores every criterion; a missing score is named first.
  await mentor.goto(`${BASE}/reviews`);
  await hydrated(mentor);
  await mentor.click('table a');
  await mentor.waitForSelector('[data-testid="review-title"]');
  await hydrated(mentor);
  assert.equal(await mentor.textContent('[data-testid="review-title"]'), 'DeepPark AI');
  await mentor.selectOption('#f-recommendation', 'accept');
  await mentor.fill('#f-feedback', 'Strong pilots; sharpen the data story.');
  await mentor.click('[data-testid="submit-review"]');
  await mentor.waitForSelector('.banner.error');
  assert.match(await mentor.textContent('.banner.error'), /Score every criterion/);
  await mentor.check('fieldset.score input[value="4"]');
  await mentor.click('[data-testid="submit-review"]');
  await mentor.waitForURL(/notice=review_saved/);
  await mentor.waitForSelector('fieldset.score input[value="4"]:checked');
  await mentorContext.close();

  // The admin decides on the board: the row then shows the decision.
  await admin.goto(`${roundUrl}/decisions`);
  await hydrated(admin);
  const boardRow = admin.locator('tr', { hasText: 'DeepPark AI' });
  assert.equal((await boardRow.locator('[data-testid="mean"]').textContent()).trim(), '4.00');
  await boardRow.locator('select[name="decision"]').selectOption('accept');
  await boardRow.locator('textarea[name="message"]').fill('Welcome to Turing Town.');
  await boardRow.locator('[data-testid="decide"]').click();
  await admin.waitForSelector('tr .pill.accepted');
  await adminContext.close();

  // The applicant reads the decision, the message and the mentor's feedback.
  const decision = await readMail(email, { kind: 'decision' });
  assert.match(decision.body, /accepted into the incubation programme/);
  await page.goto(linkIn(decision.body, '/applications/'));
  await hydrated(page);
  await page.waitForSelector('[data-testid="timeline"] li[data-status="accepted"]');
  assert.match(await page.textContent('main'), /Welcome to Turing Town\./);
  assert.match(await page.textContent('[data-testid="feedback"]'), /sharpen the data story/);
  assert.equal(await page.locator('[data-testid="withdraw"]').count(), 0);
  await context.close();

  admitted = { email, password: 'correct horse battery' };

  // The co-founder sees the same decision.
  await cofounder.goto(`${BASE}/applications`);
  await hydrated(cofounder);
  await cofounder.waitForSelector('.pill.accepted');
  await cofounderContext.close();
});

test('an admitted startup is granted GPU credit and watches it on its own page', async () => {
  assert.ok(admitted, 'runs after the intake journey, which admits DeepPark AI');
  const adminContext = await browser.newContext({ locale: 'en-US' });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);

  // A compute resource whose grants are tracked without a cluster.
  await admin.goto(`${BASE}/admin/resources`);
  await hydrated(admin);
  await admin.fill('#f-name', 'Turing Town H100');
  await admin.fill('#f-gpu_model', 'H100');
  await admin.selectOption('#f-backend', 'none');
  await admin.click('[data-testid="save-resource"]');
  await admin.waitForURL(/\/admin\/resources\?notice=saved/);
  await admin.waitForSelector('tr[data-resource]');

  // A grant: a bad amount is refused in place, then 1,000 GPU-hours are issued.
  // The startup is found by name (a park has thousands), then the grant is filled in.
  await admin.goto(`${BASE}/admin/grants`);
  await admin.click('[data-testid="new-grant"]');
  await admin.waitForURL(/\/admin\/grants\/new$/);
  await admin.fill('#f-q', 'deeppark');
  await admin.click('[data-testid="find-startup"]');
  await admin.click('[data-testid="startup-matches"] a:text("DeepPark AI")');
  await admin.waitForURL(/\/admin\/grants\/new\?startup=\d+/);
  assert.equal((await admin.textContent('[data-testid="grant-startup"]')).trim(), 'DeepPark AI');
  await hydrated(admin);
  await admin.fill('#f-gpu_hours', '0');
  const now = Date.now();
  await admin.fill('#f-valid_from', inputTime(new Date(now - 3600_000)));
  await admin.fill('#f-valid_until', inputTime(new Date(now + 90 * 86400_000)));
  await admin.fill('#f-reason', 'Seed programme');
  await admin.click('[data-testid="create-grant"]');
  await admin.waitForSelector('.banner.error');
  assert.match(await admin.textContent('.banner.error'), /GPU-hours greater than zero/);
  await admin.fill('#f-gpu_hours', '1000');
  await admin.click('[data-testid="create-grant"]');
  await admin.waitForURL(/\/admin\/grants\/\d+\?notice=grant_created/);
  await admin.waitForSelector('[data-testid="burn-down"] svg');
  assert.equal((await admin.textContent('dl [data-testid="remaining"]')).trim(), '1,000');
  // The worker applies it (the none backend records it at once).
  for (let i = 0; i < 20 && (await admin.locator('[data-sync="done"]').count()) === 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
    await admin.reload();
  }
  assert.equal(await admin.locator('[data-sync="done"]').count(), 1);
  // An adjustment moves the ledger.
  await hydrated(admin);
  await admin.fill('input[name="gpu_hours"]', '-250');
  await admin.fill('form:has([data-testid="adjust"]) input[name="note"]', 'Shared node');
  await admin.click('[data-testid="adjust"]');
  await admin.waitForSelector('[data-testid="ledger"] tr[data-kind="adjusted"]');
  assert.equal((await admin.textContent('dl [data-testid="remaining"]')).trim(), '750');
  await adminContext.close();

  // The startup's founder sees the balance and the chart, and was emailed.
  // The outbox is delivered in the background: wait for the adjustment's message.
  let mail = await readMail(admitted.email, { kind: 'grant' });
  for (let i = 0; i < 50 && !/has been adjusted/.test(mail.body); i++) {
    await new Promise((r) => setTimeout(r, 200));
    mail = await readMail(admitted.email, { kind: 'grant' });
  }
  assert.match(mail.body, /GPU credit on Turing Town H100 \(H100\) has been adjusted/);
  assert.match(mail.body, /Remaining: 750 GPU-hours/);
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, admitted.email, admitted.password);
  await page.goto(`${BASE}/credits`);
  await hydrated(page);
  assert.equal((await page.textContent('td[data-testid="remaining"]')).trim(), '750');
  await page.waitForSelector('[data-testid="burn-down"] svg path.balance', { state: 'attached' });
  await context.close();
});
