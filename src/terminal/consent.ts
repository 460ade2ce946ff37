import type { ToolKind } from './protocol.js';

/** What the person answered in the consent modal; `dismissed` is Escape or Cancel. */
export type ConsentAnswer = 'once' | 'always' | 'deny' | 'dismissed';

/** What an answer is remembered for: one sign-in configuration (provider, issuer, client) and one kind of tool. */
export interface ConsentSubject {
  provider: { id: string; label: string; issuer: string; clientId: string };
  kind: ToolKind;
  /**
   * kubectl: the API server kubectl says it talks to (KUBERNETES_EXEC_INFO, with `provideClusterInfo`
   * in the kubeconfig). Answers then hold for that cluster only.
   */
  cluster?: string;
}

export interface ConsentQuestion extends ConsentSubject {
  /** The verb as typed, e.g. `git-credential get`. */
  verb: string;
  /**
   * The command lines of the processes that ran the command, outermost first, where the operating
   * system tells them: what those processes say of themselves, nothing proven.
   */
  callers?: string[];
  /** Absent when no one is signed in yet (a sign-in follows an Allow). */
  account?: string;
  /** The scopes the token carries (the session's granted scopes); with no account yet, those the sign-in asks for. */
  scopes: readonly string[];
  /** For git: the server the token is for. */
  host?: string;
}

/** Where "Always allow" answers live across windows and restarts (the shell: globalState). */
export interface AlwaysAllowedStore {
  get(): readonly string[];
  set(keys: readonly string[]): PromiseLike<void>;
}

export interface RememberedDecision {
  /** Pass to forget(). */
  key: string;
  providerId: string;
  issuer: string;
  clientId: string;
  kind: ToolKind;
  cluster?: string;
  decision: 'always' | 'denied';
}

interface PendingQuestion {
  answer: Promise<ConsentAnswer>;
  /** The requests waiting for this answer; one that is aborted has gone away (Ctrl+C). */
  waiting: Set<AbortSignal | undefined>;
}

/**
 * Consent per sign-in configuration and tool kind. "Allow once" gives a token to the request that
 * asked (and to identical requests waiting on the same question), and nothing is remembered;
 * "Deny" holds for this window, "Always allow" in `store` for every window, until forgotten. An
 * answer given after every request that waited for it went away (Ctrl+C) is not remembered.
 * Dismissing the modal refuses and remembers nothing.
 */
export class ConsentKeeper {
  private readonly denied = new Set<string>();
  private readonly asking = new Map<string, PendingQuestion>();

  constructor(
    private readonly ask: (question: ConsentQuestion) => PromiseLike<ConsentAnswer>,
    private readonly store: AlwaysAllowedStore,
  ) {}

  /** What is already decided, without asking. */
  remembered(subject: ConsentSubject): 'allow' | 'deny' | undefined {
    const key = keyOf(subject);
    if (this.denied.has(key)) return 'deny';
    return this.store.get().includes(key) ? 'allow' : undefined;
  }

  /** True when the tool may have the token: remembered, or asked now. `signal` aborts when the request's caller went away. */
  decide(question: ConsentQuestion, signal?: AbortSignal): Promise<boolean> {
    const known = this.remembered(question);
    if (known) return Promise.resolve(known === 'allow');
    const shared = JSON.stringify([keyOf(question), question.verb, question.account ?? null, [...question.scopes], question.host ?? null]);
    let pending = this.asking.get(shared);
    if (!pending) {
      const waiting = new Set<AbortSignal | undefined>();
      const answer = Promise.resolve(this.ask(question))
        .then(async (given) => {
          if ([...waiting].some((waiter) => !waiter?.aborted)) await this.remember(question, given);
          return given;
        })
        .finally(() => this.asking.delete(shared));
      pending = { answer, waiting };
      this.asking.set(shared, pending);
    }
    pending.waiting.add(signal);
    return pending.answer.then((given) => (given === 'once' || given === 'always') && !signal?.aborted);
  }

  decisions(): RememberedDecision[] {
    const parse = (key: string, decision: RememberedDecision['decision']) => {
      const subject = parseKey(key);
      return subject ? [{ key, ...subject, decision }] : [];
    };
    return [...this.store.get().flatMap((key) => parse(key, 'always')), ...[...this.denied].flatMap((key) => parse(key, 'denied'))];
  }

  /** The tools always allowed for this configuration of a provider, e.g. `git`, `kubectl for https://k8s.example:6443`. */
  alwaysAllowedTools(provider: { id: string; issuer?: string; clientId?: string }): string[] {
    return this.decisions()
      .filter((decision) => decision.decision === 'always' && decision.providerId === provider.id && decision.issuer === provider.issuer && decision.clientId === provider.clientId)
      .map((decision) => (decision.cluster ? `${decision.kind} for ${decision.cluster}` : decision.kind));
  }

  async forget(key: string): Promise<void> {
    this.denied.delete(key);
    if (this.store.get().includes(key)) await this.store.set(this.store.get().filter((known) => known !== key));
  }

  private async remember(subject: ConsentSubject, answer: ConsentAnswer): Promise<void> {
    const key = keyOf(subject);
    if (answer === 'deny') this.denied.add(key);
    // Entries another version kept under another key can never match again: dropped on the way.
    if (answer === 'always') await this.store.set([...this.store.get().filter((known) => known !== key && parseKey(known)), key]);
  }
}

function keyOf(subject: ConsentSubject): string {
  const { id, issuer, clientId } = subject.provider;
  return JSON.stringify([id, issuer, clientId, subject.kind, subject.cluster ?? null]);
}

function parseKey(key: string): Omit<RememberedDecision, 'key' | 'decision'> | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 5) return undefined;
  const [providerId, issuer, clientId, kind, cluster] = parts as unknown[];
  if (typeof providerId !== 'string' || typeof issuer !== 'string' || typeof clientId !== 'string' || (kind !== 'token' && kind !== 'git' && kind !== 'kubectl')) return undefined;
  return { providerId, issuer, clientId, kind, ...(typeof cluster === 'string' ? { cluster } : {}) };
}
