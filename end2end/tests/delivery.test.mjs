// How the release build's bundle reaches a browser: under names that carry a hash of the
// build, kept a year, in the best encoding the browser accepts; pages revalidated every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { BASE, launch, hydrated } from './support.mjs';

/// GET `path` with `headers`; the raw body (not decoded) and the headers.
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get(new URL(path, BASE), { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

test('the bundle goes out hashed, immutable and compressed as the browser accepts', async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.equal(page.headers['cache-control'], 'no-cache');
  const html = page.body.toString();
  const js = /href="(\/pkg\/hatchery\.[0-9a-f]{16}\.js)"/.exec(html)?.[1];
  const wasm = /href="(\/pkg\/hatchery\.[0-9a-f]{16}\.wasm)"/.exec(html)?.[1];
  const css = /href="(\/pkg\/hatchery\.[0-9a-f]{16}\.css)"/.exec(html)?.[1];
  assert.ok(js && wasm && css, 'the page names hashed files');

  const raw = await get(wasm);
  assert.equal(raw.status, 200);
  assert.equal(raw.headers['content-encoding'], undefined);
  assert.equal(raw.headers['content-type'], 'application/wasm');
  assert.equal(raw.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(raw.headers.vary, /accept-encoding/i);

  const br = await get(wasm, { 'accept-encoding': 'gzip, deflate, br, zstd' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.ok(br.body.length < raw.body.length / 2, `brotli ${br.body.length} of ${raw.body.length}`);
  assert.ok(zlib.brotliDecompressSync(br.body).equals(raw.body), 'the brotli copy is this build\'s');

  const gz = await get(wasm, { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.ok(zlib.gunzipSync(gz.body).equals(raw.body), 'the gzip copy is this build\'s');

  // A revalidation with the ETag costs no body.
  const again = await get(wasm, { 'accept-encoding': 'br', 'if-none-match': br.headers.etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);

  for (const file of [js, css]) {
    const res = await get(file, { 'accept-encoding': 'br' });
    assert.equal(res.status, 200, file);
    assert.equal(res.headers['content-encoding'], 'br', file);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', file);
  }
  // Another build's name is not this one's file; the plain name is revalidated every time.
  assert.equal((await get('/pkg/hatchery.0000000000000000.wasm')).status, 404);
  const plain = await get('/pkg/hatchery.wasm');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['cache-control'], 'no-cache');

  // Pages are compressed for browsers that accept it.
  const zipped = await get('/login', { 'accept-encoding': 'gzip' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.match(zlib.gunzipSync(zipped.body).toString(), /<html/);
});

test('a browser runs the hashed, compressed bundle and a second visit takes it from its cache', async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const sent = [];
    page.on('response', async (res) => {
      if (res.url().includes('/pkg/')) sent.push({ url: res.url(), encoding: (await res.allHeaders())['content-encoding'] });
    });
    await page.goto(`${BASE}/login`);
    await hydrated(page);
    const wasm = sent.find((r) => r.url.endsWith('.wasm'));
    assert.ok(wasm, 'the wasm bundle was fetched');
    // Chromium asks secure origins for brotli, and 127.0.0.1 counts as one.
    assert.equal(wasm.encoding, 'br');
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const fromNetwork = [];
    cdp.on('Network.responseReceived', (e) => {
      if (e.response.url.endsWith('.wasm') && !e.response.fromDiskCache && !e.response.fromMemoryCache) {
        fromNetwork.push(e.response.url);
      }
    });
    await page.goto(`${BASE}/register`);
    await hydrated(page);
    assert.deepEqual(fromNetwork, [], 'the wasm module comes from the browser\'s cache');
  } finally {
    await browser.close();
  }
});
