// Variables substituted into an ini template must not change the file's structure. The template engine
// inserts them as raw text, so a value with a line break would end its line (and could add parameters the
// operator never wrote), and a quote of the enclosing kind would end its string: `'` inside a scalar string
// (`Name = '…'`), `"` inside a table string (`Row 0 = "…";`). Such a variable is refused with an error that
// names it (never quoting the value: variables hold SIP passwords), at render time: the request for that
// one device fails (logged, 500) and `aps preview` shows the same error. The core has no hook that lets
// an adapter check variables at `device set`/`apply` time, so the check runs on every (re-)render.
import { parseIni, type IniDoc } from './ini-doc.ts';
import { checkScalarValue, checkTableValue, type IniValue } from './ini-values.ts';
import { SettingsError } from './settings.ts';

const RISKY = /[\r\n'"]/;

interface Probe {
  name: string;
  token: string;
  value: string;
}

/** Where a token sits in the parsed probe: every quoted or bare value it is part of, with its check. */
function valuesOf(doc: IniDoc): Array<{ where: string; value: IniValue; check: (v: IniValue) => void }> {
  const out: Array<{ where: string; value: IniValue; check: (v: IniValue) => void }> = [];
  for (const item of doc.items) {
    if (item.kind === 'param') out.push({ where: `parameter ${item.name}`, value: item.value, check: checkScalarValue });
    if (item.kind !== 'table') continue;
    for (const line of item.body) {
      if (line.kind !== 'row') continue;
      line.values.forEach((value, i) =>
        out.push({ where: `table ${item.name} row ${line.index} field ${i + 1}`, value, check: checkTableValue }),
      );
    }
  }
  return out;
}

/**
 * Throws a SettingsError naming the first variable whose value would break the ini `render` produces
 * from `vars`. Only variables the template uses are judged; a template that renders without any risky
 * variable costs nothing (no probe render).
 */
export function checkIniVariables(vars: Readonly<Record<string, string>>, render: (vars: Record<string, string>) => string): void {
  const risky = Object.keys(vars)
    .filter((k) => RISKY.test(vars[k]!))
    .sort();
  if (risky.length === 0) return;
  // Render once with a plain token in place of each risky value, then see where each token lands.
  const probes: Probe[] = risky.map((name, i) => ({ name, token: `apsvar${i}q7z`, value: vars[name]! }));
  const text = render({ ...vars, ...Object.fromEntries(probes.map((p) => [p.name, p.token])) });
  const used = probes.filter((p) => text.includes(p.token));
  for (const p of used) {
    if (/[\r\n]/.test(p.value)) {
      throw new SettingsError(`variable ${p.name} contains a line break: it would end its ini line (and could add parameters)`);
    }
  }
  let doc: IniDoc;
  try {
    doc = parseIni(text);
  } catch {
    // The template does not parse even with plain tokens: its own fault, reported by the real render.
    return;
  }
  const real = (s: string): string => used.reduce((acc, p) => acc.split(p.token).join(p.value), s);
  for (const { where, value, check } of valuesOf(doc)) {
    const inside = used.filter((p) => value.value.includes(p.token));
    if (inside.length === 0) continue;
    try {
      check({ kind: value.kind, value: real(value.value) });
    } catch {
      const culprit = inside.find((p) => /['",;]/.test(p.value)) ?? inside[0]!;
      const what =
        value.kind === 'bare'
          ? 'a quote (or a comma/semicolon in a table field), which breaks the unquoted value of'
          : `${check === checkScalarValue ? "'" : '"'}, which would end the quoted value of`;
      throw new SettingsError(`variable ${culprit.name} contains ${what} ${where} in the ini`);
    }
  }
}
