// What the stand-in resource servers (the git server, the Kubernetes API stand-in) share: they accept
// an access token exactly when the test IdP's userinfo endpoint does, as a real API that trusts this
// identity provider would; tokens are kept in memory for assertions and never printed.
import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** The token's subject when the identity provider's userinfo endpoint accepts it, else undefined. */
export async function subjectAtUserinfo(userinfoUrl: string, token: string): Promise<string | undefined> {
  const response = await fetch(userinfoUrl, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  const body = (await response.json()) as { sub?: unknown };
  return typeof body.sub === 'string' ? body.sub : undefined;
}

export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  /** The credential presented, if any (Basic password or Bearer token). */
  token?: string;
}

export async function listen(server: Server | TlsServer, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export function closeServer(server: Server | TlsServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
