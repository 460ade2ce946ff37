import type { ToolKind } from './protocol.js';

/** What the person answered in the consent modal; `dismissed` is Escape or Cancel. */
export type ConsentAnswer = 'once' | 'always' | 'deny' | 'dismissed';

export interface ConsentQuestion {
  provider: { id: string; label: string };
  kind: ToolKind;
  /** The verb as typed, e.g. `git-credential get`. */
  verb: string;
  /** The command line that ran the tool, where the operating system tells it. */
  caller?: string;
  /** Absent when no one is signed in yet (a sign-in follows an Allow). */
  account?: string;
  scopes: readonly string[];
  /** For git: the server the token is for. */
  host?: string;
}

/** Where "Always allow" answers live across windows and restarts (the shell: globalState). */
export interface AlwaysAllowedStore {
  get(): readonly string[];
  set(keys: readonly string[]): PromiseLike<void>;
}

export type RememberedDecision = { providerId: string; kind: ToolKind; decision: 'always' | 'window' | 'denied' };

/**
 * Consent per provider and tool kind. The first request of a kind asks (one modal at a time per
 * provider and kind: concurrent requests share its answer); the answer is remembered: "Allow once"
 * and "Deny" for this window, "Always allow" in `store` for every window, until forgotten.
 * Dismissing the modal refuses that request and remembers nothing.
 */
export class ConsentKeeper {
  private readonly window = new Map<string, 'allow' | 'deny'>();
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly ask: (question: ConsentQuestion) => PromiseLike<ConsentAnswer>,
    private readonly store: AlwaysAllowedStore,
  ) {}

  /** What is already decided, without asking. */
  remembered(providerId: string, kind: ToolKind): 'allow' | 'deny' | undefined {
    const key = keyOf(providerId, kind);
    return this.window.get(key) ?? (this.store.get().includes(key) ? 'allow' : undefined);
  }

  /** True when the tool may have the token: remembered, or asked now. */
  decide(question: ConsentQuestion): Promise<boolean> {
    const key = keyOf(question.provider.id, question.kind);
    const known = this.remembered(question.provider.id, question.kind);
    if (known) return Promise.resolve(known === 'allow');
    let pending = this.asking.get(key);
    if (!pending) {
      pending = Promise.resolve(this.ask(question))
        .then(async (answer) => {
          if (answer === 'once') this.window.set(key, 'allow');
          if (answer === 'deny') this.window.set(key, 'deny');
          if (answer === 'always') await this.store.set([...this.store.get().filter((known) => known !== key), key]);
          return answer === 'once' || answer === 'always';
        })
        .finally(() => this.asking.delete(key));
      this.asking.set(key, pending);
    }
    return pending;
  }

  decisions(): RememberedDecision[] {
    const always = this.store.get().map((key) => ({ ...parseKey(key), decision: 'always' as const }));
    const inWindow = [...this.window].map(([key, value]) => ({ ...parseKey(key), decision: value === 'allow' ? ('window' as const) : ('denied' as const) }));
    return [...always, ...inWindow].filter((entry) => entry.providerId);
  }

  alwaysAllowedKinds(providerId: string): ToolKind[] {
    return this.store.get().map(parseKey).filter((entry) => entry.providerId === providerId).map((entry) => entry.kind);
  }

  async forget(providerId: string, kind: ToolKind): Promise<void> {
    const key = keyOf(providerId, kind);
    this.window.delete(key);
    if (this.store.get().includes(key)) await this.store.set(this.store.get().filter((known) => known !== key));
  }
}

function keyOf(providerId: string, kind: ToolKind): string {
  return `${providerId}|${kind}`;
}

function parseKey(key: string): { providerId: string; kind: ToolKind } {
  const bar = key.lastIndexOf('|');
  return { providerId: key.slice(0, bar), kind: key.slice(bar + 1) as ToolKind };
}
