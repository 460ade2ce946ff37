import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAllowedEndpointUrl, isLoopbackHost } from '../../src/oauth/loopbackAddress.js';

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
