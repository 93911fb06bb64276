// Who is asking: the AudioCodes Automatic Update User-Agent and MACs in file names.
// protocols.md §(a) "What one check does, per URL", step 1: the default User-Agent is
//   Mozilla/4.0 (compatible; AudioCodes; <NAME>;<VER>;<MAC>;<CONF>)
// with <CONF> = INIFileVersion; the MAC is 12 hex digits without separators (upper case in the
// documented example), and the case of <MAC> inside URLs is unverified, so MACs compare normalized.
// Both return the core's canonical MAC (src/devices/mac.ts), the form DeviceRegistry.getByMac looks up.
import { normalizeMac } from '../../src/adapter-api.ts';

/** What the User-Agent says; a field is null when it is missing or empty. */
export interface AudioCodesAgent {
  product: string | null;
  version: string | null;
  /** 12 lower-case hex digits, or null when absent or not a MAC. */
  mac: string | null;
  conf: string | null;
}

/**
 * Parses the default AudioCodes User-Agent. Spaces around fields and missing trailing fields are
 * tolerated. Returns null when the agent is not AudioCodes' format (e.g. a custom AupdHttpUserAgent).
 */
export function parseAudioCodesUserAgent(userAgent: string | undefined | null): Readonly<AudioCodesAgent> | null {
  if (!userAgent) return null;
  // A gateway sends the same agent on every check: parsed once (bounded; the result is never modified).
  if (agents.has(userAgent)) return agents.get(userAgent)!;
  const parsed = parseAgent(userAgent);
  // Only agents of a gateway's length are kept: any client chooses its header, and 10,000 agents of a
  // header's 16 KiB would hold 160 MB.
  if (userAgent.length > AGENT_MAX_CHARS) return parsed;
  if (agents.size >= AGENTS_MAX) agents.clear();
  agents.set(userAgent, parsed);
  return parsed;
}

const AGENTS_MAX = 10_000;
const AGENT_MAX_CHARS = 256;
const agents = new Map<string, Readonly<AudioCodesAgent> | null>();

function parseAgent(userAgent: string): AudioCodesAgent | null {
  const m = /\(([^()]*)\)/.exec(userAgent);
  if (!m) return null;
  const fields = m[1]!.split(';').map((f) => f.trim());
  const at = fields.findIndex((f) => f.toLowerCase() === 'audiocodes');
  if (at < 0) return null;
  const field = (i: number): string | null => fields[at + 1 + i] || null;
  const rawMac = field(2);
  return { product: field(0), version: field(1), mac: rawMac ? normalizeMac(rawMac) : null, conf: field(3) };
}

const HEX = '[0-9a-fA-F]';
// Each form is bounded so a MAC is not cut out of a longer hex run or a longer `:`/`-` list; a `.`
// after it is allowed because file extensions follow one (`0090.8f1d.d0d3.cfg`).
const BEFORE = `(?<!${HEX}|${HEX}[:-])`;
const AFTER = `(?!${HEX}|[:-]${HEX})`;
// `_` also joins words in file names (`cfg_`, `device_`), so the `_` form is bounded by whole tokens: it
// must not start or end inside a word, nor be cut out of a longer `_` run of hex pairs (`aa_00_90_…_d3`).
const ALNUM = '[0-9A-Za-z]';
const FORMS = [
  new RegExp(`${BEFORE}${HEX}{12}${AFTER}`, 'g'),
  new RegExp(`${BEFORE}${HEX}{2}([:.-])${HEX}{2}(?:\\1${HEX}{2}){4}${AFTER}`, 'g'),
  new RegExp(`${BEFORE}${HEX}{4}([.-])${HEX}{4}\\1${HEX}{4}${AFTER}`, 'g'),
  new RegExp(`(?<!${ALNUM})(?<!(?<!${ALNUM})${HEX}{2}_)${HEX}{2}(?:_${HEX}{2}){5}(?!${ALNUM})(?!_${HEX}{2}(?!${ALNUM}))`, 'g'),
];

const PLAIN_INI = /^[0-9a-fA-F]{12}\.ini$/i;

/**
 * The MAC in a string or file name (`00908F1DD0D3`, `00:90:8f:1d:d0:d3`, `00-90-8F-…`, `00_90_8f_…`,
 * `0090.8f1d.d0d3`, `cfg_00908f1dd0d3.ini`) as 12 lower-case hex digits. Null when there is none, or more than one
 * different one: a wrong guess would hand a device another device's file.
 */
export function macFromFileName(text: string): string | null {
  // The gateway's own request (`<MAC>.ini`, IniFileURL as APS writes it): nothing else can match in it.
  if (PLAIN_INI.test(text)) return text.slice(0, 12).toLowerCase();
  const found = new Set<string>();
  for (const re of FORMS) {
    for (const m of text.matchAll(re)) {
      const mac = normalizeMac(m[0].replace(/_/g, ''));
      if (mac) found.add(mac);
    }
  }
  if (found.size !== 1) return null;
  return [...found][0]!;
}
