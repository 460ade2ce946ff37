// Stands in for a Kubernetes API server, for `kubectl get --raw /version` only: it answers that path
// when the bearer token is one the test IdP accepts at userinfo (as an API server configured for
// this identity provider would), and 401 with a Kubernetes Status otherwise. HTTPS with a
// certificate made for the test, because client-go runs exec credential plugins only for TLS servers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, listen, subjectAtUserinfo, type SeenRequest } from './resourceServer.js';

export interface KubeApiStandIn {
  url: string;
  /** The server's self-signed certificate, base64 PEM: the kubeconfig's certificate-authority-data. */
  certificateAuthorityData: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export const standInVersion = { major: '1', minor: '32', gitVersion: 'v1.32.0-oauth-anywhere-stand-in', platform: 'linux/amd64' };

/** A throwaway certificate for 127.0.0.1 (openssl, a Debian package provisioning installs). */
function selfSignedCertificate(): { key: string; cert: string } {
  const folder = mkdtempSync(join(tmpdir(), 'oauth-anywhere-k8s-tls-'));
  try {
    const run = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(folder, 'key.pem'), '-out', join(folder, 'cert.pem')], { encoding: 'utf8' });
    if (run.error || run.status !== 0) throw new Error(`openssl could not make a test certificate (install Debian's openssl): ${run.error?.message ?? run.stderr}`);
    return { key: readFileSync(join(folder, 'key.pem'), 'utf8'), cert: readFileSync(join(folder, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export async function startKubeApiStandIn(options: { userinfoUrl: string }): Promise<KubeApiStandIn> {
  const requests: SeenRequest[] = [];
  const tls = selfSignedCertificate();
  const server = createServer(tls, (req, res) => {
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0 };
    requests.push(seen);
    res.once('finish', () => (seen.status = res.statusCode));
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (token) seen.token = token;
    req.resume();
    (token ? subjectAtUserinfo(options.userinfoUrl, token) : Promise.resolve(undefined)).then((subject) => {
      res.setHeader('content-type', 'application/json');
      if (!subject) {
        res.writeHead(401);
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
      } else if (req.method === 'GET' && new URL(req.url ?? '/', 'https://k8s.test').pathname === '/version') {
        res.writeHead(200);
        res.end(JSON.stringify(standInVersion));
      } else {
        res.writeHead(404);
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'this stand-in answers /version only', reason: 'NotFound', code: 404 }));
      }
    }, (error: unknown) => {
      // The test IdP's userinfo did not answer: a server error, which kubectl reports as such.
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `userinfo failed: ${error instanceof Error ? error.message : String(error)}`, reason: 'InternalError', code: 502 }));
    });
  });
  const port = await listen(server, '127.0.0.1');
  return { url: `https://127.0.0.1:${port}`, certificateAuthorityData: Buffer.from(tls.cert).toString('base64'), requests, close: () => closeServer(server) };
}
