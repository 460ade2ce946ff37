import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openableUrl } from '../../src/oauth/endpointUrls.js';
import { isAllowedEndpointUrl, isAllowedIdpUrl, isLoopbackHost } from '../../src/oauth/loopbackAddress.js';

const loopbackHosts = ['127.0.0.1', '127.0.0.2', '127.1.2.3', '127.255.255.254', 'localhost', 'LOCALHOST', '[::1]', '::1'];
const otherHosts = ['128.0.0.1', '126.255.255.255', '10.0.0.1', '192.168.1.1', '0.0.0.0', 'example.com', '127.0.0.1.nip.io', '127.0.0.1.example.com', 'localhost.example.com', '[::2]', '[::ffff:10.0.0.1]'];

describe('isLoopbackHost', () => {
  for (const host of loopbackHosts) {
    test(`${host} is loopback`, () => assert.equal(isLoopbackHost(host), true));
  }
  for (const host of otherHosts) {
    test(`${host} is not loopback`, () => assert.equal(isLoopbackHost(host), false));
  }

  test('agrees with how URL parses the hostname', () => {
    assert.equal(isLoopbackHost(new URL('http://[::1]:8080/').hostname), true);
    assert.equal(isLoopbackHost(new URL('http://127.0.0.2:9/').hostname), true);
    assert.equal(isLoopbackHost(new URL('http://127.0.0.1.nip.io/').hostname), false);
  });
});

describe('isAllowedEndpointUrl', () => {
  for (const host of [...loopbackHosts.filter((host) => host !== '::1'), ...otherHosts]) {
    test(`https://${host} is allowed`, () => assert.equal(isAllowedEndpointUrl(new URL(`https://${host}/realm`)), true));
  }
  for (const host of loopbackHosts.filter((host) => host !== '::1')) {
    test(`http://${host} is allowed (loopback)`, () => assert.equal(isAllowedEndpointUrl(new URL(`http://${host}:4000/realm`)), true));
  }
  for (const host of otherHosts) {
    test(`http://${host} is refused`, () => assert.equal(isAllowedEndpointUrl(new URL(`http://${host}/realm`)), false));
  }
  for (const url of ['ftp://127.0.0.1/', 'file:///etc/passwd', 'ws://127.0.0.1/', 'javascript:alert(1)']) {
    test(`${url} is refused (neither http nor https)`, () => assert.equal(isAllowedEndpointUrl(new URL(url)), false));
  }
});

describe('isAllowedIdpUrl: a URL the identity provider sent', () => {
  const table: Array<[url: string, issuer: string, allowed: boolean]> = [
    ['https://idp.example.test/device', 'https://idp.example.test', true],
    ['https://127.0.0.1/device', 'https://idp.example.test', true],
    ['http://127.0.0.1:4000/logout', 'https://idp.example.test', false],
    ['http://localhost:9/callback', 'https://idp.example.test', false],
    ['http://[::1]:9/x', 'https://idp.example.test', false],
    ['http://127.0.0.1:4000/logout', 'http://127.0.0.2:5000', true],
    ['http://localhost:4000/device', 'http://localhost:5000', true],
    ['http://idp.example.test/device', 'http://127.0.0.2:5000', false],
    ['javascript:alert(1)', 'http://127.0.0.2:5000', false],
  ];
  for (const [url, issuer, allowed] of table) {
    test(`${url} from ${issuer}: ${allowed ? 'allowed' : 'refused'}`, () => assert.equal(isAllowedIdpUrl(new URL(url), new URL(issuer)), allowed));
  }

  test('openableUrl with the issuer: an https identity provider cannot send the browser to a port on this machine', () => {
    assert.throws(() => openableUrl('http://127.0.0.1:4000/logout', 'end_session_endpoint', new URL('https://idp.example.test')), { reason: 'unsafe_url', message: /end_session_endpoint is http:\/\/127\.0\.0\.1:4000, not https/ });
    assert.equal(openableUrl('http://127.0.0.1:4000/logout', 'end_session_endpoint', new URL('http://127.0.0.2:5000')).port, '4000');
  });
});
