// Strict parser for HTTP authentication header values (RFC 9110 §11.2–§11.6):
//   challenge / credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
// WWW-Authenticate may hold several challenges in one comma list ("Basic realm=…, Digest realm=…").
// Parameters go into a Map (names lowercased, RFC 9110 §11.2: case-insensitive), so a parameter called
// "__proto__" is just a key. Anything outside the grammar yields null rather than a guess.
// No npm dependency: the maintained candidate (http-auth-utils) is not installed and package.json is
// not ours to change; this grammar is small enough to own.

export interface AuthScheme {
  /** As sent; compare case-insensitively. */
  scheme: string;
  token68?: string;
  params: Map<string, string>;
}

/** Longest header value we look at; Digest credentials are a few hundred bytes. */
export const MAX_AUTH_HEADER_LENGTH = 8192;

// tchar (RFC 9110 §5.6.2) by character code: a lookup per character, not a regex test on a one-character string
// (every Digest session's header goes through here on both sides, issue 15).
const TCHAR = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[ch.charCodeAt(0)] = 1;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s.charAt(this.i);
  }
  ows(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.i++;
  }
  token(): string {
    const { s } = this;
    const start = this.i;
    let i = start;
    for (let c = s.charCodeAt(i); c < 128 && TCHAR[c] === 1; c = s.charCodeAt(++i));
    this.i = i;
    return s.slice(start, i);
  }
  /**
   * quoted-string with quoted-pair unescaping (RFC 9110 §5.6.4); undefined if invalid or unterminated (the
   * position is then undefined too: the caller rewinds). Runs without escapes are sliced, not built by character.
   */
  quoted(): string | undefined {
    if (this.peek() !== '"') return undefined;
    const { s } = this;
    let out = '';
    let from = this.i + 1;
    for (let i = from; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return out + s.slice(from, i);
      }
      if (c === 0x5c) {
        if (i + 1 >= s.length) return undefined;
        const e = s.charCodeAt(i + 1);
        if ((e < 0x20 && e !== 0x09) || e === 0x7f) return undefined;
        out += s.slice(from, i);
        from = ++i; // the escaped character starts the next run
        continue;
      }
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    }
    return undefined;
  }
  /** Try `token BWS "=" BWS (token / quoted-string)` here; on failure rewind and return undefined. */
  param(): [string, string] | undefined {
    const start = this.i;
    const name = this.token();
    this.ows();
    if (name === '' || this.peek() !== '=') {
      this.i = start;
      return undefined;
    }
    this.i++;
    this.ows();
    const value = this.peek() === '"' ? this.quoted() : this.token() || undefined;
    if (value === undefined) {
      this.i = start;
      return undefined;
    }
    return [name.toLowerCase(), value];
  }
}

/** Parse a WWW-Authenticate value into its challenges; null if it is not well-formed. */
export function parseAuthChallenges(value: string): AuthScheme[] | null {
  if (value.length > MAX_AUTH_HEADER_LENGTH) return null;
  const c = new Cursor(value);
  const out: AuthScheme[] = [];
  const skipSeparators = (): void => {
    c.ows();
    while (c.peek() === ',') {
      c.i++;
      c.ows();
    }
  };
  skipSeparators();
  while (!c.done) {
    const scheme = c.token();
    if (scheme === '') return null;
    const item: AuthScheme = { scheme, params: new Map() };
    out.push(item);
    if (c.done) break;
    if (c.peek() === ',') {
      skipSeparators();
      continue;
    }
    if (c.peek() !== ' ') return null;
    c.ows();
    if (c.done) break;
    const paramStart = c.i;
    if (c.param() === undefined) {
      // Not an auth-param: token68, alone before the next comma or the end.
      const m = TOKEN68.exec(c.s.slice(c.i));
      if (m === null) return null;
      item.token68 = m[0];
      c.i += m[0].length;
      c.ows();
      if (!c.done && c.peek() !== ',') return null;
      skipSeparators();
      continue;
    }
    c.i = paramStart; // the probe consumed the first parameter; read it again in the loop
    for (;;) {
      const p = c.param();
      if (p === undefined) return null;
      if (item.params.has(p[0])) return null; // RFC 9110 §11.2: each parameter name only once
      item.params.set(p[0], p[1]);
      c.ows();
      if (c.done) break;
      if (c.peek() !== ',') return null;
      skipSeparators();
      if (c.done) break;
      const save = c.i;
      const next = c.param();
      c.i = save;
      if (next === undefined) break; // a new challenge starts here
    }
  }
  return out;
}

// One request's Authorization header is parsed up to four times (the claimed user, whether its nonce is ours,
// the check itself, a session's): the last answer is kept. Callers only read it.
let lastCredentials: { value: string; parsed: SharedAuthScheme | null } | undefined;

/** Parsed credentials as parseAuthCredentials shares them between its callers: read-only, so no caller spoils the next. */
export type SharedAuthScheme = Readonly<Omit<AuthScheme, 'params'>> & { readonly params: ReadonlyMap<string, string> };

/** Parse an Authorization value: exactly one set of credentials; null if malformed. The result is shared: read it only. */
export function parseAuthCredentials(value: string): SharedAuthScheme | null {
  if (lastCredentials?.value === value) return lastCredentials.parsed;
  const list = parseAuthChallenges(value);
  const parsed = list !== null && list.length === 1 && list[0] !== undefined ? list[0] : null;
  lastCredentials = { value, parsed };
  return parsed;
}

/** quoted-string for a header value: backslash-escape `"` and `\` (RFC 9110 §5.6.4). */
export function quoteString(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
