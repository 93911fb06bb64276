// A profile template's output as per-phone lines, each knowing whether it carries a secret. The template
// is rendered once with every non-empty variable replaced by a marker: a line holding a secret variable's
// marker is a secret line (held back from a request that may not have secrets), and every variable whose
// marker appears is checked before its value is written (a line break or quote would break the file).
// Empty values stay empty, so {{#if vars.x}} still decides as it will with the real values.
import { ApsError } from '../../src/adapter-api.ts';
import type { PhoneLine } from './render.ts';
import { valueProblem } from './script-lang.ts';

const MARK = '\u0001';

export function templateLines(
  render: (context: object) => string,
  context: { vars: Record<string, string>; [k: string]: unknown },
  isSecret: (name: string) => boolean,
  where: string,
): PhoneLine[] {
  const names = Object.keys(context.vars);
  const marked: Record<string, string> = {};
  names.forEach((n, i) => {
    marked[n] = context.vars[n] === '' ? '' : `${MARK}${i}${MARK}`;
  });
  let text: string;
  try {
    text = render({ ...context, vars: marked });
  } catch (e) {
    throw new ApsError('bad_request', `${where}: ${(e as Error).message}`);
  }
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  const out: PhoneLine[] = [];
  for (const line of lines) {
    let secret = false;
    const real = line.replace(new RegExp(`${MARK}(\\d+)${MARK}`, 'g'), (_m, i: string) => {
      const name = names[Number(i)]!;
      const value = context.vars[name]!;
      const problem = valueProblem(value);
      if (problem)
        throw new ApsError('bad_request', `${where}: variable ${name} ${problem}: it cannot be written into an Avaya settings file`);
      if (isSecret(name)) secret = true;
      return value;
    });
    if (real.includes(MARK)) throw new ApsError('bad_request', `${where}: the template output holds a control character`);
    out.push({ text: real, secret });
  }
  return out;
}
