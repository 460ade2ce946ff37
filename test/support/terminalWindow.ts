// One VS Code window's terminal side without VS Code: a SessionManager signed in by the device
// grant at the test IdP, the terminal broker over it, and its endpoint listening in a runtime
// directory, with the consent modal answered by the test. The tools run against it as real processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRuntimeDirectory } from '../../src/auth/runtimeDirectory.js';
import type { SessionManager } from '../../src/auth/sessionManager.js';
import type { DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import type { Clock } from '../../src/oauth/types.js';
import { storedToken, TerminalBroker, type Access, type TerminalProvider } from '../../src/terminal/broker.js';
import { ConsentKeeper, type ConsentAnswer, type ConsentQuestion } from '../../src/terminal/consent.js';
import { openTerminalEndpoint, planEndpoint, type RequestHandler, type TerminalEndpoint } from '../../src/terminal/endpoint.js';
import { parseGitHosts } from '../../src/terminal/gitHosts.js';
import { endpointVariable, secretVariable } from '../../src/terminal/protocol.js';
import { defaultTestScopes, deviceSessionManager } from './deviceSessionManager.js';
import type { TestIdp } from './idp.js';
import { captureLogger } from './logs.js';
import { createSharedSecrets } from './memorySecretStorage.js';
import { terminalEnvironment } from './terminalCommand.js';

export interface TestWindowOptions {
  /** The per-user runtime directory; a fresh one when absent. */
  runtimeDirectory?: string;
  clock?: Clock;
  gitHosts?: string[];
  gitUsername?: string;
  /** The "person" at the consent modal; "always" when absent. */
  consent?: (question: ConsentQuestion) => ConsentAnswer | Promise<ConsentAnswer>;
  /** Takes the device code instead of approving it at once. */
  onPrompt?: (prompt: DeviceCodePrompt) => void;
  access?: () => Access;
}

export interface TestWindow {
  manager: SessionManager;
  endpoint: TerminalEndpoint;
  /** The broker behind the endpoint, for another endpoint of the same window (WindowTerminals). */
  handle: RequestHandler;
  runtimeDirectory: string;
  /** Every consent question the modal was asked. */
  questions: ConsentQuestion[];
  /** How each sign-in a tool started ended: 'signed in' or the error kind/message. */
  signIns: string[];
  /** Each request's abort signal, in order of arrival: aborted once the window saw its caller go. */
  requestSignals: AbortSignal[];
  logLines: string[];
  /** The environment a terminal of this window gets. */
  env(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function openTestWindow(idp: TestIdp, options: TestWindowOptions = {}): Promise<TestWindow> {
  const ownDirectory = options.runtimeDirectory === undefined;
  const runtimeDirectory = await ensureRuntimeDirectory(options.runtimeDirectory ?? join(mkdtempSync(join(tmpdir(), 'oauth-anywhere-run-')), 'runtime'));
  const logger = captureLogger();
  const { manager } = deviceSessionManager(idp, createSharedSecrets().window(), { logger, clock: options.clock, onPrompt: options.onPrompt });
  const questions: ConsentQuestion[] = [];
  const signIns: string[] = [];
  let alwaysAllowed: readonly string[] = [];
  const consent = new ConsentKeeper(
    async (question) => {
      questions.push(question);
      return options.consent ? options.consent(question) : 'always';
    },
    { get: () => alwaysAllowed, set: async (keys) => void (alwaysAllowed = [...keys]) },
  );
  const provider: TerminalProvider = {
    id: 'oauth-anywhere',
    label: 'OAuth Anywhere',
    issuer: idp.issuer,
    clientId: idp.clientId,
    defaultScopes: defaultTestScopes,
    gitHosts: parseGitHosts(options.gitHosts ?? []).hosts,
    gitUsername: options.gitUsername,
    getSessions: (scopes) => manager.getSessions(scopes),
    createSession: (scopes, signal) =>
      manager.createSession(scopes, undefined, signal).then(
        (session) => (signIns.push('signed in'), session),
        (error: unknown) => {
          signIns.push(error instanceof Error ? `${(error as { kind?: string }).kind ?? error.name}: ${error.message}` : String(error));
          throw error;
        },
      ),
    reportRejected: (sessionId) => manager.reportRejected(sessionId),
    listSessions: () => manager.listSessions(),
    storedToken: (sessionId) => storedToken(manager.store, sessionId),
  };
  const broker = new TerminalBroker({ providers: () => [provider], consent, access: options.access ?? (() => ({ allowed: true })), logger });
  const requestSignals: AbortSignal[] = [];
  const handle: RequestHandler = (request, context) => (requestSignals.push(context.signal), broker.handle(request, context));
  const endpoint = await openTerminalEndpoint(planEndpoint(runtimeDirectory), handle, logger);
  return {
    manager,
    endpoint,
    handle,
    runtimeDirectory,
    questions,
    signIns,
    requestSignals,
    logLines: logger.lines,
    env: (extra) => terminalEnvironment({ [endpointVariable]: endpoint.path, [secretVariable]: endpoint.secret }, extra),
    async close() {
      await endpoint.close();
      manager.dispose();
      if (ownDirectory) rmSync(join(runtimeDirectory, '..'), { recursive: true, force: true });
    },
  };
}
