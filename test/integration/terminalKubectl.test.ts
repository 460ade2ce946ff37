// Real kubectl (whichever is on PATH: the machine image's, or Debian's kubernetes-client that
// provisioning installs) with a kubeconfig whose user runs `oauth-anywhere kubectl`, against a small
// endpoint that stands in for a Kubernetes API server: it answers `kubectl get --raw /version` only
// for a bearer token the test IdP accepts at userinfo.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { startKubeApiStandIn, standInVersion, type KubeApiStandIn } from '../support/kubeApiStandIn.js';
import { runTool } from '../support/terminalCommand.js';
import { openTestWindow, type TestWindow } from '../support/terminalWindow.js';

/** kubectl's minor version, or a clear failure: these tests need a real kubectl. */
function kubectlMinorVersion(): number {
  const run = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error('kubectl is not on PATH. Install one (Debian: apt-get install -y kubernetes-client; `node test/e2e/provision.mjs` does it), then run the tests again.');
  }
  return Number.parseInt((JSON.parse(run.stdout) as { clientVersion: { minor: string } }).clientVersion.minor, 10);
}

function kubeconfig(standIn: KubeApiStandIn, apiVersion: string, args: string[] = ['kubectl'], { provideClusterInfo = false } = {}): string {
  // v1 requires interactiveMode; the command never reads stdin, so Never.
  const interactive = `${apiVersion.endsWith('/v1') ? '\n      interactiveMode: Never' : ''}${provideClusterInfo ? '\n      provideClusterInfo: true' : ''}`;
  return `apiVersion: v1
kind: Config
clusters:
- name: stand-in
  cluster:
    server: ${standIn.url}
    certificate-authority-data: ${standIn.certificateAuthorityData}
users:
- name: oauth-anywhere
  user:
    exec:
      apiVersion: ${apiVersion}
      command: oauth-anywhere
      args: ${JSON.stringify(args)}${interactive}
contexts:
- name: stand-in
  context:
    cluster: stand-in
    user: oauth-anywhere
current-context: stand-in
`;
}

describe('kubectl with oauth-anywhere as its exec credential plugin', () => {
  let idp: TestIdp;
  let standIn: KubeApiStandIn;
  let work: string;
  const windows: TestWindow[] = [];
  const minor = kubectlMinorVersion();
  // client.authentication.k8s.io/v1 arrived in kubectl 1.22; v1beta1 is understood by every kubectl in use.
  const versions = ['client.authentication.k8s.io/v1beta1', ...(minor >= 22 ? ['client.authentication.k8s.io/v1'] : [])];

  const kubectl = (window: TestWindow, config: string) => {
    const file = join(work, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, config);
    return runTool('kubectl', ['--kubeconfig', file, 'get', '--raw', '/version'], { env: window.env({ HOME: work, KUBECONFIG: undefined }) });
  };

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
    standIn = await startKubeApiStandIn({ userinfoUrl: new URL(idp.provider.pathFor('userinfo'), idp.issuer).href });
    work = mkdtempSync(join(tmpdir(), 'oauth-anywhere-kubectl-'));
  });
  after(async () => {
    for (const window of windows) await window.close();
    await standIn?.close();
    await idp?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const apiVersion of versions) {
    it(`${apiVersion}: kubectl get --raw /version succeeds with the session's token`, async () => {
      const window = await openTestWindow(idp);
      windows.push(window);
      const session = await window.manager.createSession([]);
      const before = standIn.requests.length;
      const run = await kubectl(window, kubeconfig(standIn, apiVersion));
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), standInVersion);
      // Google Cloud's kubectl dispatcher asks /version once itself, to pick its kubectl build.
      const seen = standIn.requests.slice(before);
      assert.equal(seen.at(-1)!.path, '/version');
      assert.deepEqual(new Set(seen.map((request) => `${request.status} ${request.token === session.accessToken}`)), new Set(['200 true']));
      assert.equal(window.questions.length, 1);
      assert.equal(window.questions[0]!.kind, 'kubectl');
      assert.match(window.questions[0]!.callers?.at(-1) ?? '', /kubectl/);
      assert.ok(!run.stderr.includes(session.accessToken));
    });
  }

  it('with provideClusterInfo, the modal names the cluster and "Always Allow" holds for that cluster only', async () => {
    const second = await startKubeApiStandIn({ userinfoUrl: new URL(idp.provider.pathFor('userinfo'), idp.issuer).href });
    try {
      const window = await openTestWindow(idp);
      windows.push(window);
      await window.manager.createSession([]);
      const config = (server: KubeApiStandIn) => kubeconfig(server, versions[0]!, ['kubectl'], { provideClusterInfo: true });
      for (const [server, asked] of [[standIn, 1], [standIn, 1], [second, 2]] as const) {
        const run = await kubectl(window, config(server));
        assert.equal(run.code, 0, run.stderr);
        assert.equal(window.questions.length, asked, `${server.url}: ${asked} question(s) so far`);
        assert.equal(window.questions.at(-1)!.cluster, server === standIn ? standIn.url : second.url);
      }
      const withoutCluster = await kubectl(window, kubeconfig(standIn, versions[0]!));
      assert.equal(withoutCluster.code, 0, withoutCluster.stderr);
      assert.equal(window.questions.length, 3, 'a kubeconfig that names no cluster is asked about on its own');
      assert.equal(window.questions.at(-1)!.cluster, undefined);
    } finally {
      await second.close();
    }
  });

  it('a refusal reaches the person: kubectl fails and shows why', async () => {
    const window = await openTestWindow(idp, { consent: () => 'deny' });
    windows.push(window);
    await window.manager.createSession([]);
    const before = standIn.requests.length;
    const run = await kubectl(window, kubeconfig(standIn, versions[0]!));
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /oauth-anywhere: Access to OAuth Anywhere was refused in the VS Code window\./);
    assert.ok(standIn.requests.slice(before).every((request) => !request.token), 'no token reached the server');
  });

  it('without a session and --no-sign-in in the kubeconfig: exit code 3 explained', async () => {
    const window = await openTestWindow(idp);
    windows.push(window);
    const run = await kubectl(window, kubeconfig(standIn, versions[0]!, ['kubectl', '--no-sign-in']));
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /Not signed in to OAuth Anywhere/);
  });
});
