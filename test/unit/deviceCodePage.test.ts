import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import jsQR from 'jsqr';
import { qrModules, qrSvg } from '../../src/vscode/qrCode.js';
import type { DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import { deviceCodePage, qrTarget } from '../../src/vscode/deviceCodePage.js';
import { format as t } from '../support/renderedText.js';

const prompt: DeviceCodePrompt = {
  userCode: 'WDJB-MJHT',
  verificationUri: 'https://idp.example.com/device',
  verificationUriComplete: 'https://idp.example.com/device?user_code=WDJB-MJHT',
  expiresAt: 1_000_000 + 10 * 60_000,
  issuer: 'https://idp.example.com/',
  clientId: 'vscode-native',
};

/** Draws the module grid as pixels (4 per module, quiet zone included) and reads it back as a phone would. */
function decode(modules: boolean[][]): string | undefined {
  const scale = 4;
  const quiet = 4;
  const size = (modules.length + 2 * quiet) * scale;
  const pixels = new Uint8ClampedArray(size * size * 4).fill(255);
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++) {
          const offset = (((y + quiet) * scale + dy) * size + (x + quiet) * scale + dx) * 4;
          pixels.set([0, 0, 0, 255], offset);
        }
    }),
  );
  return jsQR(pixels, size, size)?.data;
}

/** The dark modules of lean-qr's SVG path, as a grid: every closed outline is filled (even-odd). */
function modulesFromSvg(svg: string): boolean[][] {
  const viewBox = /viewBox="(-?\d+) (-?\d+) (\d+) (\d+)"/.exec(svg);
  assert.ok(viewBox, 'the SVG has a viewBox');
  const pad = -Number(viewBox[1]);
  const size = Number(viewBox[3]) - 2 * pad;
  const path = /<path d="([^"]+)"/.exec(svg)?.[1] ?? '';
  const outlines = path
    .split('Z')
    .filter(Boolean)
    .map((outline) => outline.replace(/^M/, '').split('L').map((point) => point.trim().split(' ').map(Number) as [number, number]));
  const inside = (px: number, py: number) =>
    outlines.reduce((count, outline) => {
      let crossings = 0;
      for (let i = 0; i < outline.length; i++) {
        const [x1, y1] = outline[i]!;
        const [x2, y2] = outline[(i + 1) % outline.length]!;
        if (y1 > py !== y2 > py && px < ((x2 - x1) * (py - y1)) / (y2 - y1) + x1) crossings++;
      }
      return count + crossings;
    }, 0) % 2 === 1;
  return Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => inside(x + 0.5, y + 0.5)));
}

describe('the QR code (lean-qr) and the device-code webview page', () => {
  test('the QR code reads back as the verification address with the code in it', () => {
    assert.equal(decode(qrModules(prompt.verificationUriComplete!)), prompt.verificationUriComplete);
  });

  test('the SVG markup draws those same modules, so what the panel shows scans', () => {
    const svg = qrSvg(prompt.verificationUriComplete!);
    const drawn = modulesFromSvg(svg);
    assert.deepEqual(drawn, qrModules(prompt.verificationUriComplete!));
    assert.equal(decode(drawn), prompt.verificationUriComplete);
  });

  test('a different address gives a different code (the test can tell them apart)', () => {
    assert.notDeepEqual(qrModules('https://idp.example.com/device?user_code=AAAA-BBBB'), qrModules(prompt.verificationUriComplete!));
  });

  test('without verification_uri_complete the QR code carries the plain verification address', () => {
    const plain = { ...prompt, verificationUriComplete: undefined };
    assert.equal(qrTarget(plain), plain.verificationUri);
    assert.equal(qrTarget(prompt), prompt.verificationUriComplete);
  });

  test('the page: strict CSP, no script, the nonce on its only style, the code in large type', () => {
    const svg = qrSvg(qrTarget(prompt));
    const html = deviceCodePage({ prompt, qrSvg: svg, nonce: 'n0nce', now: 1_000_000, t });
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    assert.equal(csp, "default-src 'none'; style-src 'nonce-n0nce'; base-uri 'none'; form-action 'none'");
    assert.ok(!/<script/i.test(html), 'no script element');
    assert.ok(!/\son\w+=/i.test(html), 'no inline event handler');
    assert.ok(!/<(img|iframe|link|object|embed)\b/i.test(html), 'nothing that loads a resource');
    assert.deepEqual([...html.matchAll(/<style([^>]*)>/g)].map((m) => m[1]), [' nonce="n0nce"']);
    assert.match(html, /<p id="user-code" class="code">WDJB-MJHT<\/p>/);
    assert.match(html, /\.code \{[^}]*font-size: 3rem/);
    assert.ok(html.includes(svg), 'the QR code is inline');
    assert.match(html, /client &#34;vscode-native&#34; of https:\/\/idp\.example\.com\//);
    assert.match(html, /expires in about 10 minutes/);
  });

  test('values from the identity provider are escaped', () => {
    const hostile = { ...prompt, userCode: '<script>x</script>', verificationUri: 'https://idp.example.com/"><img src=x>', clientId: '"><b>' };
    const html = deviceCodePage({ prompt: hostile, qrSvg: '', nonce: 'n', now: 0, t });
    assert.ok(!html.includes('<script>x'), 'code escaped');
    assert.ok(!html.includes('"><img'), 'verification URI escaped');
    assert.ok(!html.includes('"><b>'), 'client id escaped');
  });
});
