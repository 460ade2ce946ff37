// A programmatic stand-in for the user's browser: just enough to walk an identity provider's
// pages from a test. Redirects are followed by hand because fetch's own following drops the
// Set-Cookie headers of intermediate responses, and the provider's interaction cookies are set
// exactly there.

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

export interface PageResponse {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  /** Absolute target of a redirect response, if it is one. */
  location?: string | undefined;
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  /** Sent as application/x-www-form-urlencoded, like a submitted HTML form. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface FollowOptions extends RequestOptions {
  /** Stop before requesting a redirect target for which this returns true. */
  stopAt?: (url: URL) => boolean;
  maxRedirects?: number;
}

export interface FollowResult {
  /** The last response received. */
  response: PageResponse;
  /** The redirect target that stopAt matched, not requested. */
  stoppedAt?: string;
}

export interface HtmlForm {
  action: string;
  method: 'GET' | 'POST';
  /** Hidden inputs and the named text inputs' current values. */
  fields: Record<string, string>;
}

export class Browser {
  #cookies: Cookie[] = [];

  async request(url: string, options: RequestOptions = {}): Promise<PageResponse> {
    const target = new URL(url);
    const headers = new Headers(options.headers);
    const cookie = this.cookieHeader(target);
    if (cookie) headers.set('cookie', cookie);
    let body: string | undefined;
    if (options.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(options.form).toString();
    }
    const response = await fetch(target, {
      method: options.method ?? (options.form ? 'POST' : 'GET'),
      headers,
      body: body ?? null,
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) this.#storeCookie(target, line);
    const location = response.headers.get('location');
    return {
      url: target.href,
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      location: location && response.status >= 300 && response.status < 400
        ? new URL(location, target).href
        : undefined,
    };
  }

  /** Requests url and follows redirects, as a browser would after a navigation or form post. */
  async follow(url: string, options: FollowOptions = {}): Promise<FollowResult> {
    const maxRedirects = options.maxRedirects ?? 20;
    let response = await this.request(url, options);
    for (let hops = 0; response.location; hops++) {
      if (hops >= maxRedirects) throw new Error(`too many redirects, last at ${response.url}`);
      const next = new URL(response.location);
      if (options.stopAt?.(next)) return { response, stoppedAt: next.href };
      // Only 307/308 repeat the method and body; every other redirect becomes a GET.
      const repeat = response.status === 307 || response.status === 308;
      response = await this.request(next.href, repeat ? options : { ...options.headers && { headers: options.headers } });
    }
    return { response };
  }

  /** Submits a parsed form with extra fields (e.g. the clicked button's name and value). */
  submit(page: PageResponse, form: HtmlForm, extra: Record<string, string> = {}, options: FollowOptions = {}): Promise<FollowResult> {
    const action = new URL(form.action || page.url, page.url);
    const fields = { ...form.fields, ...extra };
    if (form.method === 'GET') {
      for (const [name, value] of Object.entries(fields)) action.searchParams.set(name, value);
      return this.follow(action.href, options);
    }
    return this.follow(action.href, { ...options, method: 'POST', form: fields });
  }

  cookieHeader(url: URL): string {
    return this.#cookies
      .filter((c) => c.host === url.hostname && pathMatches(url.pathname, c.path))
      // More specific paths first, as RFC 6265 asks, so a path-scoped cookie wins over a wider one.
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  clearCookies(): void {
    this.#cookies = [];
  }

  #storeCookie(url: URL, line: string): void {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = defaultPath(url.pathname);
    let expired = value === '';
    for (const attribute of attributes) {
      const [key = '', val = ''] = attribute.split('=').map((s) => s.trim());
      const lower = key.toLowerCase();
      if (lower === 'path' && val.startsWith('/')) path = val;
      if (lower === 'max-age' && Number(val) <= 0) expired = true;
      if (lower === 'expires' && Date.parse(val) <= Date.now()) expired = true;
    }
    this.#cookies = this.#cookies.filter((c) => !(c.name === name && c.host === url.hostname && c.path === path));
    if (!expired) this.#cookies.push({ name, value, host: url.hostname, path });
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function defaultPath(pathname: string): string {
  const slash = pathname.lastIndexOf('/');
  return slash <= 0 ? '/' : pathname.slice(0, slash);
}

/** Finds a form in a page (the first, or the one with this id) and reads its fields. */
export function parseForm(html: string, id?: string): HtmlForm {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
  const match = id === undefined
    ? forms[0]
    : forms.find((f) => attribute(f[1] ?? '', 'id') === id);
  if (!match) throw new Error(`no form${id ? ` #${id}` : ''} in page: ${html.slice(0, 300)}`);
  const [, attrs = '', inner = ''] = match;
  const fields: Record<string, string> = {};
  for (const [, inputAttrs = ''] of inner.matchAll(/<input\b([^>]*)>/gi)) {
    const name = attribute(inputAttrs, 'name');
    const type = (attribute(inputAttrs, 'type') ?? 'text').toLowerCase();
    if (name && (type === 'hidden' || type === 'text')) fields[name] = attribute(inputAttrs, 'value') ?? '';
  }
  return {
    action: attribute(attrs, 'action') ?? '',
    method: (attribute(attrs, 'method') ?? 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET',
    fields,
  };
}

function attribute(attrs: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  if (!match) return undefined;
  return decodeEntities(match[1] ?? match[2] ?? match[3] ?? '');
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
