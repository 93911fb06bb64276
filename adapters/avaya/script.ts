// The phone's side of the Avaya file chain: interprets an upgrade script or settings file as the phones
// do (protocols.md §(b) "Script / settings language"; seed 004, 16CC chapter 7 "General Download Process").
// Pure apart from the loader it is given: the simulator loads over HTTP, tests from a map.
//   - IF $NAME SEQ value GOTO TAG: compared case-insensitively; an unknown $NAME skips the line.
//   - GOTO TAG jumps after the first "# TAG" line of the file; a missing tag ends the file.
//   - GET name ($VAR expanded): a file that loads is interpreted, and the rest of the current one is not;
//     a GET that fails is skipped and interpretation continues.
//   - SET changes the phone's parameter; a later SET of the same name wins, and $NAME reads it back
//     (the 16xx sample tests $APPNAME after setting it).
import { parseLine, type Statement } from './script-lang.ts';

/** Loads a file the script GETs; null when it is not there (404, refused, unreachable). */
export type ScriptLoader = (name: string, settings: Readonly<Record<string, string>>) => Promise<string | null>;

export interface ScriptRun {
  /** Every parameter the chain SET, with its last value. */
  settings: Record<string, string>;
  /** The GETs in order, with whether the file loaded. */
  gets: Array<{ file: string; loaded: boolean }>;
  /** Why interpretation stopped early (loop guard, nesting), or null when the chain ran to its end. */
  stopped: string | null;
}

export interface ScriptOptions {
  /** The phone's own values: MODEL4, MODEL, GROUP, MACADDR, SIG_IN_USE, BOOTNAME, HWVERS… */
  phone: Readonly<Record<string, string>>;
  load: ScriptLoader;
  /** Loop guard: statements executed over the whole chain (a backward GOTO can loop forever). */
  maxSteps?: number;
  /** Nesting guard: files open at once (a settings file that GETs itself). */
  maxDepth?: number;
}

interface Program {
  statements: Statement[];
  tags: Map<string, number>;
}

/** Parses a file once: its statements and where each tag first appears. */
export function compile(text: string): Program {
  const statements = text.split(/\r\n|\r|\n/).map(parseLine);
  const tags = new Map<string, number>();
  statements.forEach((s, i) => {
    if (s.kind === 'tag' && !tags.has(s.tag)) tags.set(s.tag, i);
  });
  return { statements, tags };
}

/** Runs `first` (already loaded, e.g. the upgrade script) and every file it GETs. */
export async function runScript(first: string, o: ScriptOptions): Promise<ScriptRun> {
  const run: ScriptRun = { settings: {}, gets: [], stopped: null };
  const budget = { steps: o.maxSteps ?? 100_000 };
  const lookup = (name: string): string | undefined => {
    const key = name.toUpperCase();
    return run.settings[key] ?? o.phone[key];
  };
  const expand = (file: string): string => file.replace(/\$([A-Za-z0-9_]+)/g, (m, v: string) => lookup(v) ?? m);

  const exec = async (text: string, depth: number): Promise<void> => {
    const p = compile(text);
    let pc = 0;
    while (pc < p.statements.length) {
      if (budget.steps-- <= 0) {
        run.stopped ??= 'step limit reached (a GOTO loop?)';
        return;
      }
      const s = p.statements[pc]!;
      pc++;
      switch (s.kind) {
        case 'set':
          // Parameter names are upper case in every Avaya document; a lower-case SET means the same one.
          run.settings[s.name.toUpperCase()] = s.value;
          break;
        case 'if': {
          const v = lookup(s.variable);
          if (v !== undefined && v.toLowerCase() === s.value.toLowerCase()) pc = jump(p, s.tag);
          break;
        }
        case 'goto':
          pc = jump(p, s.tag);
          break;
        case 'get': {
          const file = expand(s.file);
          if (depth + 1 > (o.maxDepth ?? 8)) {
            run.stopped ??= `nesting deeper than ${o.maxDepth ?? 8} files at GET ${file}`;
            run.gets.push({ file, loaded: false });
            break;
          }
          const body = await o.load(file, run.settings);
          run.gets.push({ file, loaded: body !== null });
          if (body === null) break;
          await exec(body, depth + 1);
          return; // a GET that succeeds ends the current file
        }
        default:
          break;
      }
    }
  };

  await exec(first, 0);
  return run;
}

/** The statement after "# TAG", or past the end when the tag is missing (the rest of the file is ignored). */
function jump(p: Program, tag: string): number {
  const at = p.tags.get(tag);
  return at === undefined ? p.statements.length : at + 1;
}
