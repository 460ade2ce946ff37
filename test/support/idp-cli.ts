// Runs the test IdP as its own process, for the e2e tier (code-server + Playwright) and the sandbox.
//
//   node --import tsx test/support/idp-cli.ts [--host 127.0.0.2] [--port 0] [--client-id ID]
//     [--access-token-ttl S] [--refresh-token-ttl S] [--device-code-ttl S] [--id-token-ttl S]
//     [--device-interval S|none] [--clock-tolerance S]
//
// Prints one JSON line on stdout once it listens: {"issuer":...,"clientId":...,"control":...}
// (oidc-provider's warnings go to stderr). Stops on SIGINT/SIGTERM.
//
// Out-of-process tests steer it through a control API on the same server, under `control`
// (`<issuer>/__control/`); bodies and answers are JSON:
//   GET  requests                                   -> {requests: RequestRecord[]}
//   POST reset                                      clears counters, faults and pending slow_downs
//   POST set        {accessTokenTtl?, refreshTokenTtl?, deviceCodeTtl?, idTokenTtl?, deviceInterval?}
//                                                   -> {settings}
//   POST slowdown   {n}                             the next n device polls answer slow_down
//   POST fault      {endpoint, fault, times?}       see Fault in idp.ts
//   POST introspect {token}                         -> the introspection answer
//   POST authorize  {url, decision?, deliver?}      -> {callbackUrl, status?, body?}
//   POST device     {userCode, decision?}           approves (or denies, or aborts) a user code
// 127.0.0.2 is the default host because code-server rewrites 127.0.0.1 URLs to its own proxy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { startTestIdp, type Decision, type Fault, type IdpEndpoint, type IdpSettings, type TestIdp } from './idp.js';

const CONTROL_PREFIX = '/__control/';

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative number, got ${value}`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.2' },
      port: { type: 'string', default: '0' },
      'client-id': { type: 'string' },
      'access-token-ttl': { type: 'string' },
      'refresh-token-ttl': { type: 'string' },
      'device-code-ttl': { type: 'string' },
      'id-token-ttl': { type: 'string' },
      'device-interval': { type: 'string' },
      'clock-tolerance': { type: 'string' },
    },
  });

  let idp: TestIdp | undefined;
  // Requests may arrive as soon as the server listens, before startTestIdp has resolved.
  const intercept = (req: IncomingMessage, res: ServerResponse) => {
    if (!idp || !req.url?.startsWith(CONTROL_PREFIX)) return false;
    control(idp, req, res).catch((err: unknown) => {
      send(res, 400, { error: err instanceof Error ? err.message : String(err) });
    });
    return true;
  };
  const deviceInterval = values['device-interval'];
  idp = await startTestIdp({
    host: values.host,
    port: numberOption(values.port, 'port'),
    clientId: values['client-id'],
    accessTokenTtl: numberOption(values['access-token-ttl'], 'access-token-ttl'),
    refreshTokenTtl: numberOption(values['refresh-token-ttl'], 'refresh-token-ttl'),
    deviceCodeTtl: numberOption(values['device-code-ttl'], 'device-code-ttl'),
    idTokenTtl: numberOption(values['id-token-ttl'], 'id-token-ttl'),
    deviceInterval: deviceInterval === 'none' ? null : numberOption(deviceInterval, 'device-interval'),
    clockTolerance: numberOption(values['clock-tolerance'], 'clock-tolerance'),
    intercept,
  });

  process.stdout.write(`${JSON.stringify({
    issuer: idp.issuer,
    clientId: idp.clientId,
    control: new URL(CONTROL_PREFIX, idp.issuer).href,
  })}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    idp?.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function control(idp: TestIdp, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const command = `${req.method} ${new URL(req.url ?? '/', idp.issuer).pathname.slice(CONTROL_PREFIX.length).replace(/^\/+/, '')}`;
  const body = req.method === 'POST' ? await readJson(req) : {};
  switch (command) {
    case 'GET requests':
      return send(res, 200, { requests: idp.requests });
    case 'POST reset':
      idp.resetCounters();
      idp.clearFaults();
      return send(res, 200, { ok: true });
    case 'POST set': {
      const keys: (keyof IdpSettings)[] = ['accessTokenTtl', 'refreshTokenTtl', 'deviceCodeTtl', 'idTokenTtl', 'deviceInterval'];
      const valid = (key: keyof IdpSettings, value: unknown) =>
        (typeof value === 'number' && value >= 0) || (value === null && key === 'deviceInterval');
      const invalid = keys.find((key) => body[key] !== undefined && !valid(key, body[key]));
      if (invalid) throw new Error(`${invalid} must be a non-negative number`);
      for (const key of keys) {
        if (body[key] !== undefined) Object.assign(idp.settings, { [key]: body[key] });
      }
      return send(res, 200, { settings: idp.settings });
    }
    case 'POST slowdown':
      idp.injectSlowDown(Number(body.n ?? 1));
      return send(res, 200, { ok: true });
    case 'POST fault':
      idp.injectFault(body.endpoint as IdpEndpoint, body.fault as Fault, Number(body.times ?? 1));
      return send(res, 200, { ok: true });
    case 'POST introspect':
      return send(res, 200, await idp.introspect(String(body.token)));
    case 'POST authorize':
      return send(res, 200, await idp.authorize(String(body.url), {
        decision: body.decision as Decision | undefined,
        deliver: body.deliver as boolean | undefined,
      }));
    case 'POST device': {
      const { page } = await idp.approveDevice(String(body.userCode), {
        decision: body.decision as Decision | 'abort' | undefined,
      });
      return send(res, 200, { ok: true, status: page.status });
    }
    default:
      return send(res, 404, { error: `unknown control command ${command}` });
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
