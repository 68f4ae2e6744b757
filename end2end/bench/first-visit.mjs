// First visits as a visitor on a slow link meets them: a fresh Chromium profile (nothing
// cached), 1.6 Mbps down / 750 kbps up with 150 ms of latency, the CPU slowed 4×. For each
// page: the bytes transferred (all, and the bundle's JS + wasm, as sent: compressed), and the
// time from navigation to interactive (the page's islands have hydrated:
// `body[data-hydrated]`); then the same page again with the cache warm.
//
//   node bench/first-visit.mjs URL [cookie] [URL [cookie] ...]     prints one JSON line per page
import { launch } from '../tests/support.mjs';

const PROFILE = { latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };
const CPU_SLOWDOWN = 4;

async function visit(context, url, cookie) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, ...PROFILE });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  const urls = new Map();
  let total = 0;
  let bundle = 0;
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    total += e.encodedDataLength;
    const u = urls.get(e.requestId) ?? '';
    if (/\/pkg\/.*\.(js|wasm)$/.test(new URL(u, 'http://x').pathname)) bundle += e.encodedDataLength;
  });
  if (cookie) {
    const [name, ...value] = cookie.split('=');
    await context.addCookies([{ name, value: value.join('='), url }]);
  }
  const t0 = Date.now();
  const res = await page.goto(url, { waitUntil: 'commit', timeout: 120_000 });
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 120_000 });
  const interactive = Date.now() - t0;
  await page.waitForLoadState('networkidle', { timeout: 120_000 }).catch(() => {});
  const status = res?.status();
  await page.close();
  return { status, interactive_ms: interactive, bytes: total, bundle_bytes: bundle };
}

const args = process.argv.slice(2);
const targets = [];
for (let i = 0; i < args.length; i++) {
  const url = args[i];
  const cookie = args[i + 1] && !/^https?:/.test(args[i + 1]) ? args[++i] : '';
  targets.push({ url, cookie });
}
const browser = await launch();
try {
  for (const { url, cookie } of targets) {
    const context = await browser.newContext();
    const first = await visit(context, url, cookie);
    const again = await visit(context, url, cookie);
    await context.close();
    console.log(JSON.stringify({ url, first, again }));
  }
} finally {
  await browser.close();
}
