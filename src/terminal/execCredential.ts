/**
 * client-go's exec credential plugin contract (kubectl's `users[].user.exec`): the plugin prints an
 * ExecCredential of the API version the kubeconfig asked for, which client-go passes in
 * KUBERNETES_EXEC_INFO. Part of the command's bundle, so it imports nothing.
 */
const group = 'client.authentication.k8s.io';
export const supportedExecApiVersions = [`${group}/v1`, `${group}/v1beta1`] as const;
export type ExecApiVersion = (typeof supportedExecApiVersions)[number];

export interface ExecInfo {
  apiVersion: ExecApiVersion;
  /** The API server, when the kubeconfig's exec section sets `provideClusterInfo: true`. */
  cluster?: string;
}

/** What client-go passed in KUBERNETES_EXEC_INFO: the version to answer in (v1 when absent: a plugin run by hand) and the cluster. */
export function readExecInfo(execInfo: string | undefined): ExecInfo | { unsupported: string } {
  if (!execInfo) return { apiVersion: `${group}/v1` };
  let info: { apiVersion?: unknown; spec?: { cluster?: { server?: unknown } } };
  try {
    info = JSON.parse(execInfo) as typeof info;
  } catch {
    return { unsupported: 'KUBERNETES_EXEC_INFO is not JSON' };
  }
  const apiVersion = supportedExecApiVersions.find((version) => version === info?.apiVersion);
  if (!apiVersion) return { unsupported: `apiVersion ${JSON.stringify(info?.apiVersion)}` };
  const server = info.spec?.cluster?.server;
  return typeof server === 'string' && server ? { apiVersion, cluster: server } : { apiVersion };
}

export interface ExecCredential {
  apiVersion: ExecApiVersion;
  kind: 'ExecCredential';
  status: { token: string; expirationTimestamp?: string };
}

/**
 * The credential for kubectl. client-go reuses it until `expirationTimestamp` (RFC 3339, whole
 * seconds) and runs the plugin again after; without one it keeps it until the server answers 401.
 */
export function execCredential(apiVersion: ExecApiVersion, token: string, expiresAt: number | undefined): ExecCredential {
  const status: ExecCredential['status'] = { token };
  if (expiresAt !== undefined) status.expirationTimestamp = new Date(Math.floor(expiresAt / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return { apiVersion, kind: 'ExecCredential', status };
}
