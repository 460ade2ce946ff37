import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuthError, isOAuthError } from './errors.js';
import type { CallbackPages } from './callbackPages.js';

export interface CallbackServerOptions {
  /** 0 (the default) lets the system pick a free port, so two windows never collide. */
  port?: number;
  expectedState: string;
  pages: CallbackPages;
  /**
   * Runs when the redirect with the right state arrives; its outcome decides the page the browser
   * shows, so a person sees "signed in" only once the tokens are really in hand.
   */
  onCallback(parameters: URLSearchParams): Promise<{ ok: true; label: string } | { ok: false; message: string }>;
}

export interface CallbackServer {
  port: number;
  redirectUri: string;
  /** Settles once: after the accepted callback was answered, or when `close` ran first. */
  done: Promise<void>;
  /**
   * Makes `GET /start` redirect to `location` (the authorize URL) and returns the /start URL to open
   * instead of the IdP. Reaching /start proves the browser can reach this machine's loopback; when it
   * never does, the browser is elsewhere and the sign-in should switch to a code.
   */
  redirectStartTo(location: string, onReached: () => void): string;
  /**
   * Accepts one more Host header, e.g. the authority of a port forward. Only 127.0.0.1:PORT,
   * localhost:PORT and these are answered: any other Host is refused, which defeats DNS rebinding.
   */
  allowHost(authority: string): void;
  close(): Promise<void>;
}

const bindAddress = '127.0.0.1';
const callbackPath = '/callback';
const startPath = '/start';

/**
 * A one-shot HTTP server on 127.0.0.1 for the authorization response. It answers only `GET /callback`
 * with the expected `state` and one of its own Host names; everything else gets a short error without
 * ending the wait, so a stray or hostile request cannot cancel a real sign-in. It never echoes a
 * parameter back.
 */
export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  let accepted = false;
  let startRedirect: { location: string; onReached(): void } | undefined;
  /** The accepted callback's answer; closing waits for it so the browser gets its page. */
  let answering: Promise<void> | undefined;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));

  // Node enforces the two timeouts only when it checks connections; every second keeps stalled
  // half-requests from lingering for the default 30 s.
  const server = http.createServer({ maxHeaderSize: 8 * 1024, requestTimeout: 10_000, headersTimeout: 5_000, connectionsCheckingInterval: 1_000 }, (request, response) => {
    // handle() answers every request itself; a failure it did not foresee drops the connection.
    handle(request, response).catch(() => response.destroy());
  });
  // Half-open or idle connections must not keep the port alive after the sign-in ends.
  server.keepAliveTimeout = 1_000;
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${bindAddress}:${options.port ?? 0}`;
      // A fixed port (a preset's, for identity providers that compare redirect URIs exactly) is held
      // by every sign-in while it waits, so a second one at the same time finds it taken.
      if (options.port && error.code === 'EADDRINUSE') reject(new OAuthError('port_in_use', `Cannot listen on ${where} for the sign-in redirect: the port is in use (EADDRINUSE).`));
      else reject(new OAuthError('port_unavailable', `Cannot listen on ${where} for the sign-in redirect (${error.code ?? error.message}).`));
    });
    server.listen(options.port ?? 0, bindAddress, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const allowedHosts = new Set([`${bindAddress}:${port}`, `localhost:${port}`]);

  let closing: Promise<void> | undefined;
  /** Stops listening at once; the accepted callback's page still goes out (for at most 2 s). */
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      const closeAll = () => server.closeAllConnections();
      withDeadline(answering, 2_000).then(closeAll, closeAll);
    }).finally(finish);
    return closing;
  };

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const refuse = (status: number, message: string) => send(response, status, options.pages.failure(message));
    if (!allowedHosts.has((request.headers.host ?? '').toLowerCase())) return refuse(421, 'This address is not the one the sign-in was started on.');
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'Only the browser redirect is accepted here.');

    const url = parseRequestUrl(request.url);
    if (url?.pathname === startPath && startRedirect && request.method === 'GET') {
      startRedirect.onReached();
      response.writeHead(302, { Location: startRedirect.location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', Connection: 'close' });
      response.end();
      return;
    }
    if (!url || url.pathname !== callbackPath) return refuse(404, 'Nothing here. Return to VS Code.');

    const states = url.searchParams.getAll('state');
    if (states.length !== 1 || states[0] !== options.expectedState) {
      return refuse(400, 'This sign-in response does not belong to the sign-in VS Code is waiting for. Start the sign-in again from VS Code if it has timed out.');
    }
    if (accepted) return refuse(409, 'This sign-in was already completed. You can close this tab.');
    if (request.method === 'HEAD') return send(response, 200, '');
    accepted = true;
    answering = new Promise<void>((resolve) => {
      response.once('finish', resolve);
      response.once('close', resolve);
    });

    const outcome = await options.onCallback(url.searchParams).catch((error: unknown) => ({
      ok: false as const,
      message: isOAuthError(error) ? error.message : 'The sign-in failed. See the OAuth Anywhere log in VS Code.',
    }));
    if (outcome.ok) send(response, 200, options.pages.success(outcome.label));
    else send(response, 400, options.pages.failure(outcome.message));
    await answering;
    // Closing never fails; nothing here waits for it.
    close().catch(() => undefined);
  }

  return {
    port,
    redirectUri: `http://${bindAddress}:${port}${callbackPath}`,
    redirectStartTo: (location, onReached) => {
      startRedirect = { location, onReached };
      return `http://${bindAddress}:${port}${startPath}`;
    },
    done,
    close,
    allowHost: (authority) => void allowedHosts.add(authority.toLowerCase()),
  };
}

function withDeadline(promise: Promise<void> | undefined, ms: number): Promise<void> {
  if (!promise) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function parseRequestUrl(raw: string | undefined): URL | undefined {
  if (!raw || !raw.startsWith('/')) return undefined;
  try {
    return new URL(raw, 'http://callback.invalid');
  } catch {
    return undefined;
  }
}

function send(response: http.ServerResponse, status: number, html: string): void {
  if (response.headersSent) return;
  response.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    Connection: 'close',
  });
  response.end(html);
}
