// A minimal, strict reader of SIP responses and requests (RFC 3261 §7.1/§7.2 start lines, §7.3 headers), only
// as much as a client transaction needs to match and classify a response, and a simulated device to answer a
// request. The npm SIP stacks are either unmaintained (`sip`, last release years ago) or built for browsers
// over WebSocket (`sip.js`, `jssip`) or for a separate SIP server (`drachtio-srf`); none offers a small,
// kept-up message parser for Node UDP.
// Anything that does not parse is null: a datagram from the network is data, never an exception.

/** What a request and a response both carry: enough to match a message to its transaction (§17.1.3, §17.2.3). */
export interface SipMessageFields {
  /** Headers in order, names lower-cased and compact forms expanded (`v` -> `via`). */
  headers: ReadonlyArray<readonly [string, string]>;
  cseq: { seq: number; method: string };
  /** The branch parameter of the topmost Via, or null when it has none. */
  topViaBranch: string | null;
  callId: string;
}

export interface SipResponse extends SipMessageFields {
  status: number;
  reason: string;
}

// RFC 3261 §7.3.3 compact forms.
const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  u: 'allow-events',
};
const STATUS_LINE = /^SIP\/2\.0 ([1-6]\d\d)(?: ([^\r\n]*))?$/;
// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const HEADER = /^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*:[ \t]*(.*)$/;
const MAX_SIZE = 65535;

/** First value of a header (values joined with commas count as several, per §7.3.1). */
export function headerValue(res: Pick<SipMessageFields, 'headers'>, name: string): string | undefined {
  const key = name.toLowerCase();
  return res.headers.find(([n]) => n === key)?.[1];
}

function branchOf(via: string): string | null {
  const first = via.split(',')[0]!;
  const m = /;[ \t]*branch[ \t]*=[ \t]*([^;,\s]+)/i.exec(first);
  return m ? m[1]! : null;
}

interface SipMessage extends SipMessageFields {
  start: string;
}

/** The start line and headers of one datagram (§7): null unless it has Via, CSeq and Call-ID. */
function parseMessage(data: Buffer | string): SipMessage | null {
  if (data.length === 0 || data.length > MAX_SIZE) return null;
  const text = typeof data === 'string' ? data : data.toString('utf8');
  // Header and body are separated by an empty line; bare LF is tolerated on receipt.
  const m = /\r?\n\r?\n/.exec(text);
  if (!m) return null;
  const lines = text.slice(0, m.index).split(/\r?\n/);
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line)) {
      // §7.3.1 line folding: a continuation of the previous header's value.
      const last = headers[headers.length - 1];
      if (!last) return null;
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const h = HEADER.exec(line);
    if (!h) return null;
    const name = h[1]!.toLowerCase();
    headers.push([COMPACT[name] ?? name, h[2]!.trim()]);
  }

  const via = headerValue({ headers }, 'via');
  const cseq = /^(\d{1,10})[ \t]+([A-Za-z]+)$/.exec(headerValue({ headers }, 'cseq') ?? '');
  const callId = headerValue({ headers }, 'call-id');
  if (via === undefined || !cseq || !callId) return null;
  // methods are case-sensitive (§7.1)
  return { start: lines[0]!, headers, cseq: { seq: Number(cseq[1]), method: cseq[2]! }, topViaBranch: branchOf(via), callId };
}

/** Parses one datagram as a SIP response; null when it is not a well-formed one. */
export function parseSipResponse(data: Buffer | string): SipResponse | null {
  const msg = parseMessage(data);
  const start = msg && STATUS_LINE.exec(msg.start);
  if (!msg || !start) return null;
  const { headers, cseq, topViaBranch, callId } = msg;
  return { status: Number(start[1]), reason: start[2] ?? '', headers, cseq, topViaBranch, callId };
}

/** A SIP request as a server transaction needs it (what a simulated device answers). */
export interface SipRequest extends SipMessageFields {
  method: string;
  uri: string;
}

// Request-Line (§7.1): Method SP Request-URI SP SIP-Version.
const REQUEST_LINE = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/2\.0$/;

/** Parses one datagram as a SIP request; null when it is not a well-formed one (a response included). */
export function parseSipRequest(data: Buffer | string): SipRequest | null {
  const msg = parseMessage(data);
  const start = msg && REQUEST_LINE.exec(msg.start);
  if (!msg || !start) return null;
  const { headers, cseq, topViaBranch, callId } = msg;
  return { method: start[1]!, uri: start[2]!, headers, cseq, topViaBranch, callId };
}
