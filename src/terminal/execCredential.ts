/**
 * client-go's exec credential plugin contract (kubectl's `users[].user.exec`): the plugin prints an
 * ExecCredential of the API version the kubeconfig asked for, which client-go passes in
 * KUBERNETES_EXEC_INFO. Part of the command's bundle, so it imports nothing.
 */
const group = 'client.authentication.k8s.io';
export const supportedExecApiVersions = [`${group}/v1`, `${group}/v1beta1`] as const;
export type ExecApiVersion = (typeof supportedExecApiVersions)[number];

/** The version from KUBERNETES_EXEC_INFO; v1 when it is absent (a plugin run by hand). */
export function requestedExecApiVersion(execInfo: string | undefined): ExecApiVersion | { unsupported: string } {
  if (!execInfo) return `${group}/v1`;
  let apiVersion: unknown;
  try {
    apiVersion = (JSON.parse(execInfo) as { apiVersion?: unknown }).apiVersion;
  } catch {
    return { unsupported: 'KUBERNETES_EXEC_INFO is not JSON' };
  }
  const supported = supportedExecApiVersions.find((version) => version === apiVersion);
  return supported ?? { unsupported: `apiVersion ${JSON.stringify(apiVersion)}` };
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
