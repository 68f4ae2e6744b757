// The settlement journey, against the real Slurm 22.05 test cluster (scripts/slurm.sh): an admin
// prices a resource and opens a 30 % compute-voucher programme with a ¥1,000 annual cap; a
// founder is admitted, given a little park credit and hours the team bought, and runs a real
// job on the cluster as their own Unix login; the worker imports it; the month's statement
// splits it into park credit, a subsidy that stops at the cap and the founder's share; the
// admin issues it, marks it paid with an invoice number, files the claim and downloads its CSV;
// the founder reads the same statement.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { BASE, launch, hydrated, inputTime, parkParts, signIn, newPerson } from './support.mjs';

const ADMIN_EMAIL = process.env.HATCHERY_E2E_ADMIN_EMAIL;
const ADMIN_PASSWORD = process.env.HATCHERY_E2E_ADMIN_PASSWORD;
const SLURM_URL = process.env.HATCHERY_SLURM_URL;
const SLURM_CONF = process.env.SLURM_CONF ?? '/run/hatchery-slurm/etc/slurm.conf';
const ROOT = new URL('../../', import.meta.url).pathname;

const tag = String(Math.floor(Math.random() * 100_000)).padStart(5, '0');
const prefix = `hce${tag}`;
const login = `hceu${tag}`;

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  if (SLURM_URL) {
    run('bash', [`${ROOT}scripts/slurm.sh`, 'reset-accounts', prefix], { check: false });
    run('userdel', [login], { check: false });
  }
});

function run(cmd, args, { check = true, cwd } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, SLURM_CONF } });
  if (check && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return (r.stdout ?? '').trim();
}

/// Yuan as the pages print them ("¥1,234.56") to fen.
function fen(text) {
  const m = /(-?)¥([\d,]+)\.(\d\d)/.exec(text);
  assert.ok(m, `no amount in ${JSON.stringify(text)}`);
  return (m[1] ? -1 : 1) * (Number(m[2].replace(/,/g, '')) * 100 + Number(m[3]));
}

async function until(what, seconds, check) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

test('a real job on Slurm becomes a statement with park credit, a capped subsidy and the founder\'s share, then a claim', { timeout: 480_000 }, async (t) => {
  if (!SLURM_URL) {
    assert.ok(!process.env.CI, 'CI runs scripts/test.sh, which brings Slurm up and sets HATCHERY_SLURM_URL');
    t.skip('HATCHERY_SLURM_URL is not set: run scripts/slurm.sh up to run this journey');
    return;
  }
  assert.ok(ADMIN_EMAIL, 'HATCHERY_E2E_ADMIN_EMAIL is set by scripts/test.sh');
  const now = new Date();
  // The park's month and day of now.
  const { year, month: mm, day: dd } = parkParts(now);
  const [month, day] = [`${year}-${mm}`, `${year}-${mm}-${dd}`];
  const firm = `Qilin Compute ${tag}`;
  const programme = `Turing Town compute voucher ${tag}`;
  // The Unix user the founder's jobs run as must exist before Slurm hears of it.
  run('userdel', [login], { check: false });
  run('useradd', ['-M', '-s', '/usr/sbin/nologin', login]);

  const adminContext = await browser.newContext({ locale: 'en-US' });
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);

  // The cluster as a resource, with its provider, and a price per GPU-hour from today.
  await admin.goto(`${BASE}/admin/resources`);
  await hydrated(admin);
  await admin.fill('#f-name', `Turing Town Slurm ${tag}`);
  await admin.fill('#f-gpu_model', 'H800');
  await admin.selectOption('#f-backend', 'slurm');
  await admin.fill('#f-cluster', 'ci');
  await admin.fill('#f-base_url', SLURM_URL);
  await admin.fill('#f-account_pattern', `${prefix}-{id}`);
  await admin.fill('#f-provider', 'Turing Town Compute Co.');
  await admin.click('[data-testid="save-resource"]');
  await admin.waitForURL(/\/admin\/resources\?notice=saved/);
  const resourceRow = admin.locator('tr[data-resource]', { hasText: `Turing Town Slurm ${tag}` });
  const resourceId = await resourceRow.getAttribute('data-resource');
  await admin.goto(`${BASE}/admin/resources/${resourceId}`);
  await hydrated(admin);
  // A price over the limit is refused in place; ¥90,000 per GPU-hour is ¥1,500 a GPU-minute.
  await admin.fill('#f-yuan_per_gpu_hour', '150000');
  await admin.fill('#f-starts_on', day);
  await admin.click('[data-testid="add-price"]');
  await admin.waitForSelector('.banner.error');
  await admin.fill('#f-yuan_per_gpu_hour', '90000');
  await admin.click('[data-testid="add-price"]');
  await admin.waitForSelector('tr[data-price][data-current="true"]');
  assert.match(await admin.textContent('tr[data-current="true"]'), /¥90,000\.00/);

  // A 30 % programme with a ¥1,000 cap per company and year.
  await admin.goto(`${BASE}/admin/programmes/new`);
  await hydrated(admin);
  await admin.fill('#f-name_en', programme);
  await admin.fill('#f-name_zh', `图灵小镇算力券 ${tag}`);
  await admin.selectOption('#f-sponsor_kind', 'city');
  await admin.fill('#f-sponsor', 'Turing Town Bureau of Industry');
  await admin.fill('#f-rate_domestic', '30');
  await admin.fill('#f-rate_other', '30');
  await admin.fill('#f-cap_company_year', '1000');
  await admin.fill('#f-valid_from', `${year}-01-01`);
  await admin.fill('#f-valid_until', `${year}-12-31`);
  await admin.click('[data-testid="save-programme"]');
  await admin.waitForURL(/\/admin\/programmes\/\d+\?notice=saved/);

  // A round, and a founder admitted to it (without reviews: this journey is about money).
  const round = `Compute round ${tag}`;
  await admin.goto(`${BASE}/admin/rounds/new`);
  await hydrated(admin);
  await admin.fill('#f-title_en', round);
  await admin.fill('#f-title_zh', `算力批次 ${tag}`);
  await admin.fill('#f-description_en', 'For teams that train on the park cluster.');
  await admin.fill('#f-description_zh', '面向使用园区集群训练的团队。');
  await admin.fill('#f-opens_at', inputTime(new Date(now.getTime() - 3600_000)));
  await admin.fill('#f-closes_at', inputTime(new Date(now.getTime() + 30 * 86400_000)));
  await admin.click('[data-testid="save-round"]');
  await admin.waitForURL(/\/admin\/rounds\/\d+\?notice=saved/);
  const roundUrl = admin.url().replace(/\?.*$/, '');

  const founder = await newPerson(browser, 'Chen Jing', 'settlement');
  const page = founder.page;
  await page.goto(`${BASE}/account`);
  await hydrated(page);
  await page.fill('#f-cluster_login', login);
  await page.click('[data-testid="save-cluster-login"]');
  await page.waitForURL(/notice=/);
  await page.goto(`${BASE}/startup`);
  await hydrated(page);
  await page.fill('#f-name', firm);
  await page.selectOption('#f-sector', 'foundation_models');
  await page.selectOption('#f-stage', 'seed');
  await page.fill('#f-team_size', '6');
  await page.fill('#f-founders', 'Chen Jing (CEO)');
  await page.click('main button[type="submit"]');
  await page.waitForURL(/\/startup\?notice=saved/);
  await page.goto(BASE);
  await hydrated(page);
  await page.locator('.round-list li', { hasText: round }).locator('a.button').click();
  await page.waitForSelector('#f-problem');
  await hydrated(page);
  await page.fill('#f-problem', 'Chinese legal documents are slow to review.');
  await page.fill('#f-solution', 'A fine-tuned model with retrieval.');
  await page.fill('#f-models_data', 'A 7B model on public judgements.');
  await page.fill('#f-gpu_model', 'H800');
  await page.fill('#f-gpu_hours', '500');
  await page.fill('#f-team', 'Four engineers.');
  await page.click('[data-testid="submit-application"]');
  await page.waitForURL(/\/applications\/\d+\?notice=submitted/);

  await admin.goto(`${roundUrl}/decisions`);
  await hydrated(admin);
  const boardRow = admin.locator('tr', { hasText: firm });
  await boardRow.locator('select[name="decision"]').selectOption('accept');
  await boardRow.locator('[data-testid="without-review"]').check();
  await boardRow.locator('[data-testid="decide"]').click();
  await admin.waitForSelector('tr .pill.accepted');

  // Found by name for a grant; its id names its Slurm account.
  await admin.goto(`${BASE}/admin/grants/new`);
  await hydrated(admin);
  await admin.fill('#f-q', firm);
  await admin.click('[data-testid="find-startup"]');
  await admin.click(`[data-testid="startup-matches"] a:text("${firm}")`);
  await admin.waitForURL(/\/admin\/grants\/new\?startup=\d+/);
  const startupId = /startup=(\d+)/.exec(admin.url())[1];
  const account = `${prefix}-${startupId}`;

  // Enrolled in the programme by decision, with the reason.
  await admin.goto(`${BASE}/startups/${startupId}`);
  await hydrated(admin);
  await admin.locator('#programmes select[name="programme_id"]').selectOption({ label: programme });
  await admin.locator('#programmes textarea[name="reason"]').fill('Registered in Turing Town; compute rent contract signed.');
  await admin.click('[data-testid="enrol-programme"]');
  await admin.waitForURL(/notice=programme_enrolled/);
  assert.match(await admin.textContent('#programmes tr[data-enrolment]'), new RegExp(programme));

  // Three GPU-minutes of park credit, and an hour the team bought.
  const grant = async (hours, funding, reason) => {
    await admin.goto(`${BASE}/admin/grants/new?startup=${startupId}`);
    await hydrated(admin);
    await admin.selectOption('#f-resource_id', resourceId);
    await admin.fill('#f-gpu_hours', hours);
    await admin.fill('#f-valid_from', inputTime(new Date(now.getTime() - 3600_000)));
    await admin.fill('#f-valid_until', inputTime(new Date(now.getTime() + 60 * 86400_000)));
    await admin.fill('#f-reason', reason);
    await admin.selectOption('#f-funding', funding);
    await admin.click('[data-testid="create-grant"]');
    await admin.waitForURL(/\/admin\/grants\/\d+\?notice=grant_created/);
    return admin.url().replace(/\?.*$/, '');
  };
  const parkGrant = await grant('0.05', 'park', 'Seed credit');
  const ownGrant = await grant('1', 'own', 'Bought one GPU-hour under contract HT-2026-17');
  // The worker puts both in force on the cluster: one account, their sum as its cap.
  for (const url of [parkGrant, ownGrant]) {
    await until('the grant to be in force on Slurm', 60, async () => {
      await admin.goto(url);
      return (await admin.locator('[data-sync="done"]').count()) > 0;
    });
  }

  // A real job: four (fake) GPUs for 100 s, run as the founder's Unix login.
  const job = run('runuser', ['-u', login, '--', 'sbatch', '--parsable', '-A', account, '-o', '/dev/null',
    '--gres=gpu:4', '-t', '3', '--wrap', 'sleep 100'], { cwd: '/tmp' });
  assert.match(job, /^\d+$/);
  // The worker reads finished jobs back (every 5 s on the test server): the park's minutes go first.
  await until('the job to be imported', 300, async () => {
    await admin.goto(parkGrant);
    return (await admin.locator('[data-testid="ledger"] tr[data-kind="consumed"]').count()) > 0;
  });

  // The month's statements, prepared by the worker.
  await admin.goto(`${BASE}/statements`);
  await hydrated(admin);
  await admin.selectOption('#f-period', month);
  await admin.click('[data-testid="prepare-statements"]');
  await admin.waitForURL(/notice=statements_requested/);
  const statementRow = admin.locator('[data-testid="statements"] tr', { hasText: firm });
  await until('the statement', 60, async () => {
    await admin.goto(`${BASE}/statements?of=${month}&q=${encodeURIComponent(firm)}`);
    return (await statementRow.count()) > 0;
  });
  await statementRow.locator('a').first().click();
  await admin.waitForURL(/\/statements\/\d+$/);
  await hydrated(admin);
  const statementUrl = admin.url();
  assert.equal((await admin.textContent('[data-testid="statement-status"]')).trim(), 'Draft');
  const line = admin.locator(`[data-testid="lines"] tr[data-job^="ci:${job}:"]`);
  assert.equal(await line.count(), 1);
  assert.match(await line.textContent(), /¥90,000\.00/);
  const amount = fen(await admin.textContent('[data-testid="amount"]'));
  const park = fen(await admin.textContent('[data-testid="park"]'));
  const subsidy = fen(await admin.textContent(`[data-testid="subsidy"]`));
  const own = fen(await admin.textContent('[data-testid="own"]'));
  // At ¥1,500 a GPU-minute: the park's three minutes; 30 % of the rest would be more than the
  // cap, so the programme pays ¥1,000 and the founder the rest.
  assert.equal(park, 3 * 150_000);
  assert.ok(amount >= 6 * 150_000, `the job used at least six GPU-minutes: ${amount}`);
  assert.ok(Math.floor((amount - park) * 0.3) > 100_000, 'the rate alone would pass the cap');
  assert.equal(subsidy, 100_000);
  assert.equal(own, amount - park - subsidy);

  // Issued with the contract, paid with the invoice number.
  await admin.fill('#f-contract_no', 'HT-2026-17');
  await admin.fill('#f-contract_date', day);
  await admin.click('[data-testid="to-issued"]');
  await admin.waitForURL(/notice=statement_moved/);
  await admin.waitForSelector('[data-testid="statement-status"].issued');
  await hydrated(admin);
  await admin.fill('#f-invoice_no', `FP${tag}0001`);
  await admin.fill('#f-payment_ref', `BANK-${tag}`);
  await admin.click('[data-testid="to-paid"]');
  await admin.waitForURL(/notice=statement_moved/);
  await admin.waitForSelector('[data-testid="statement-status"].paid');
  assert.equal((await admin.textContent('[data-testid="invoice"]')).trim(), `FP${tag}0001`);
  // Issuing it again is not offered: the paid statement moves on only through a claim.
  assert.equal(await admin.locator('[data-testid="to-issued"]').count(), 0);

  // The claim for the month: the programme's ¥1,000, and the jobs that prove it.
  await admin.goto(`${BASE}/admin/claims`);
  await hydrated(admin);
  await admin.selectOption('#f-programme_id', { label: programme });
  await admin.selectOption('#f-from', month);
  await admin.selectOption('#f-until', month);
  await admin.click('[data-testid="file-claim"]');
  await admin.waitForURL(/\/admin\/claims\/\d+\?notice=claim_filed/);
  assert.equal(fen(await admin.textContent('[data-testid="claim-total"]')), 100_000);
  assert.match(await admin.textContent('[data-testid="claim-startups"]'), new RegExp(firm));
  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    admin.click('[data-testid="claim-csv"]'),
  ]);
  const csv = await fs.readFile(await download.path(), 'utf8');
  const rows = csv.trim().split(/\r?\n/);
  assert.match(rows[0], /^claim,statement,startup,/);
  const jobRow = rows.find((r) => r.includes(`ci:${job}:`));
  assert.ok(jobRow, csv);
  assert.match(jobRow, new RegExp(`${firm},.*,${month},.*HT-2026-17,FP${tag}0001,BANK-${tag}`));
  assert.match(jobRow, /,1000\.00,/);
  await admin.goto(statementUrl);
  await admin.waitForSelector('[data-testid="statement-status"].claimed');
  await adminContext.close();

  // The founder sees the same statement, and what the park and the programme paid for them.
  await page.goto(`${BASE}/statements`);
  await hydrated(page);
  await page.locator('[data-testid="statements"] tr', { hasText: firm }).locator('a').first().click();
  await page.waitForURL(/\/statements\/\d+$/);
  assert.equal(page.url(), statementUrl);
  assert.equal(fen(await page.textContent('[data-testid="subsidy"]')), 100_000);
  assert.equal(fen(await page.textContent('[data-testid="own"]')), own);
  assert.equal(await page.locator('[data-testid^="to-"]').count(), 0);
  await founder.context.close();
});
