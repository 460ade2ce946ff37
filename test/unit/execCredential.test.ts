import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execCredential, readExecInfo } from '../../src/terminal/execCredential.js';

describe('ExecCredential for kubectl', () => {
  it('answers in the version client-go asked for in KUBERNETES_EXEC_INFO, v1 without it', () => {
    const info = (apiVersion: string) => JSON.stringify({ kind: 'ExecCredential', apiVersion, spec: { interactive: false } });
    assert.deepEqual(readExecInfo(info('client.authentication.k8s.io/v1')), { apiVersion: 'client.authentication.k8s.io/v1' });
    assert.deepEqual(readExecInfo(info('client.authentication.k8s.io/v1beta1')), { apiVersion: 'client.authentication.k8s.io/v1beta1' });
    assert.deepEqual(readExecInfo(undefined), { apiVersion: 'client.authentication.k8s.io/v1' });
    assert.deepEqual(readExecInfo(info('client.authentication.k8s.io/v1alpha1')), { unsupported: 'apiVersion "client.authentication.k8s.io/v1alpha1"' });
    assert.deepEqual(readExecInfo('{'), { unsupported: 'KUBERNETES_EXEC_INFO is not JSON' });
    assert.deepEqual(readExecInfo('null'), { unsupported: 'apiVersion undefined' });
  });

  it('names the cluster when the kubeconfig provides its info', () => {
    const withCluster = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1', spec: { cluster: { server: 'https://k8s.example:6443', 'certificate-authority-data': 'x' }, interactive: false } });
    assert.deepEqual(readExecInfo(withCluster), { apiVersion: 'client.authentication.k8s.io/v1', cluster: 'https://k8s.example:6443' });
  });

  it('status.token and an RFC 3339 expirationTimestamp in whole seconds; none without an expiry', () => {
    assert.deepEqual(execCredential('client.authentication.k8s.io/v1', 'tok', Date.UTC(2030, 0, 2, 3, 4, 5, 678)), {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'tok', expirationTimestamp: '2030-01-02T03:04:05Z' },
    });
    assert.deepEqual(execCredential('client.authentication.k8s.io/v1beta1', 'tok', undefined), {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      status: { token: 'tok' },
    });
  });
});
