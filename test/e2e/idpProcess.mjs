// The test identity provider (test/support/idp-cli.ts: a real oidc-provider) as a child process,
// for the end-to-end scenarios and the sandbox, plus a small client for its control API.
//
//   const idp = await startIdpProcess({ deviceInterval: 1 });
//   idp.issuer, idp.clientId
//   await idp.control.requests();  await idp.control.introspect(token);  await idp.userinfo(token);
//   await idp.stop();
//
// The IdP runs in its own process group on Node 20 (this process's node) with tsx; it is killed on
// stop(), on SIGINT/SIGTERM/SIGHUP and when this process exits (supportProcess.mjs).

import { cleanEnv } from './provision.mjs';
import { startSupportProcess } from './supportProcess.mjs';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * Starts test/support/idp-cli.ts and waits for its JSON line.
 *
 * @param {object} [options]
 * @param {string} [options.host='127.0.0.2']  not 127.0.0.1: code-server rewrites those URLs to its proxy
 * @param {number} [options.port=0]
 * @param {string} [options.clientId]
 * @param {number} [options.accessTokenTtl]  seconds
 * @param {number} [options.deviceInterval]  seconds
 * @param {number} [options.deviceCodeTtl]   seconds
 * @param {string} [options.secretLedger]    file the IdP appends every secret it issues to
 * @param {string} [options.logFile]         the IdP's stderr goes here (else it is kept in memory)
 * @param {(line: string) => void} [options.onStderr]
 * @returns {Promise<{issuer: string, clientId: string, controlUrl: string, pid: number,
 *   control: ReturnType<typeof controlClient>, userinfo: (token: string) => Promise<{status: number, body: any}>,
 *   metadata: () => Promise<any>, stop: () => Promise<void>}>}
 */
export async function startIdpProcess(options = {}) {
  const args = ['--host', options.host ?? '127.0.0.2', '--port', String(options.port ?? 0)];
  const flag = (name, value) => {
    if (value !== undefined && value !== null) args.push(`--${name}`, String(value));
  };
  flag('client-id', options.clientId);
  flag('access-token-ttl', options.accessTokenTtl);
  flag('refresh-token-ttl', options.refreshTokenTtl);
  flag('device-code-ttl', options.deviceCodeTtl);
  flag('device-interval', options.deviceInterval);

  const env = cleanEnv(undefined);
  delete env.OAUTH_ANYWHERE_SECRET_LEDGER;
  if (options.secretLedger) env.OAUTH_ANYWHERE_SECRET_LEDGER = options.secretLedger;
  const { announced, pid, stderr, exited, stop } = await startSupportProcess({
    script: 'test/support/idp-cli.ts',
    args,
    env,
    what: 'the test IdP',
    onStderr: options.onStderr,
  });

  const control = controlClient(announced.control);
  let metadataPromise;
  const metadata = () => {
    metadataPromise ??= fetchJson(new URL('.well-known/openid-configuration', `${announced.issuer}/`).href);
    return metadataPromise;
  };
  return {
    issuer: announced.issuer,
    clientId: announced.clientId,
    controlUrl: announced.control,
    pid,
    control,
    metadata,
    /** Calls the IdP's userinfo endpoint as a resource server would: is this access token accepted? */
    async userinfo(token) {
      const { userinfo_endpoint: endpoint } = await metadata();
      const response = await fetch(endpoint, { headers: { authorization: `Bearer ${token}` } });
      const text = await response.text();
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = { raw: text.slice(0, 200) };
      }
      return { status: response.status, body };
    },
    stderr,
    exited,
    stop,
  };
}

async function fetchJson(url, init) {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** The control API of idp-cli.ts (see its header). */
export function controlClient(controlUrl) {
  const post = (command, body = {}) =>
    fetchJson(new URL(command, controlUrl).href, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return {
    requests: async () => (await fetchJson(new URL('requests', controlUrl).href)).requests,
    reset: () => post('reset'),
    set: (settings) => post('set', settings),
    introspect: (token) => post('introspect', { token }),
    device: (userCode, decision) => post('device', { userCode, decision }),
    /** The next `times` requests to `endpoint` get `fault` (see Fault in test/support/idp.ts). */
    fault: (endpoint, fault, times = 1) => post('fault', { endpoint, fault, times }),
    /** Device-code polls (token requests with the device_code grant) seen so far. */
    async devicePolls() {
      return (await this.requests()).filter((r) => r.endpoint === 'token' && r.grantType === DEVICE_CODE_GRANT).length;
    },
    /** Requests per endpoint (token requests split by grant type). */
    async counts() {
      const counts = {};
      for (const r of await this.requests()) {
        const key = r.endpoint === 'token' ? `token:${r.grantType === DEVICE_CODE_GRANT ? 'device_code' : r.grantType}` : r.endpoint;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    },
  };
}
