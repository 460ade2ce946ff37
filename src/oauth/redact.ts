import type { Logger } from './types.js';

const placeholder = '[redacted]';

/** Field names whose values are secrets wherever they appear: query strings, JSON, form bodies. */
const secretFields = ['access_token', 'refresh_token', 'id_token', 'code_verifier', 'device_code', 'client_secret', 'assertion', 'accessToken', 'refreshToken', 'idToken', 'deviceCode', 'codeVerifier'];
const fieldPattern = new RegExp(`(["']?\\b(?:${secretFields.join('|')})["']?\\s*[=:]\\s*["']?)([^"'&\\s,;}]+)`, 'g');
/** Three base64url segments starting with a JSON header: a JWT, whatever it is called. */
const jwtPattern = /\beyJ[\w-]*\.[\w-]*\.[\w-]*/g;
/** `code` and `token` are secrets as query or form parameters; elsewhere they are ordinary words. */
const parameterPattern = /([?&](?:code|token)=)[^&\s#"']+/g;
/** An RFC 6750 credential: long enough that "a bearer token" in prose is left alone. */
const bearerPattern = /\b(Bearer\s+)[\w.~+/-]{16,}=*/gi;

/**
 * Removes secrets from text before it reaches a log, a message or a report: every value registered
 * with `remember` (the tokens and codes this extension holds), plus anything shaped like a secret.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  remember(...values: Array<string | undefined>): void {
    // Very short values would redact ordinary words; real tokens and codes are longer. A value
    // remembered again moves to the back, so the 500 kept are the ones in use (a refresh token that
    // never rotates is remembered on every serve and never falls out).
    for (const value of values) {
      if (!value || value.length < 6) continue;
      this.secrets.delete(value);
      this.secrets.add(value);
    }
    while (this.secrets.size > 500) this.secrets.delete(this.secrets.values().next().value!);
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) if (result.includes(secret)) result = result.split(secret).join(placeholder);
    return redactSecretShapes(result);
  }
}

/** Removes what looks like a secret (JWTs, bearer tokens, secret-named fields) from any text. */
export function redactSecretShapes(text: string): string {
  return text.replace(jwtPattern, placeholder).replace(bearerPattern, `$1${placeholder}`).replace(parameterPattern, `$1${placeholder}`).replace(fieldPattern, `$1${placeholder}`);
}

export function redactingLogger(sink: Logger, redactor: Redactor): Logger {
  return {
    trace: (message) => sink.trace(redactor.redact(message)),
    debug: (message) => sink.debug(redactor.redact(message)),
    info: (message) => sink.info(redactor.redact(message)),
    warn: (message) => sink.warn(redactor.redact(message)),
    error: (message) => sink.error(redactor.redact(message)),
  };
}
