// `aps apply` of a whole fleet: N devices with passwords against the same N devices without passwords (the
// baseline: parsing, checks and writes only), each into a fresh data folder, then the same file applied
// again (every device unchanged: each password is compared with its stored hash). Measured in the same run,
// so the ratio shows what passwords cost. Runs the compiled server (dist/; `npm run build` first).
//
//   node --import tsx bench/apply-fleet.ts [--count 100000]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { aps, machineNote, runBench, tempDir } from './lib/harness.ts';

const { values } = parseArgs({ options: { count: { type: 'string', default: '100000' } } });
const COUNT = Number(values.count);

function fleetFile(dir: string, name: string, withPasswords: boolean): string {
  const file = join(dir, name);
  const rows: string[] = ['devices:\n'];
  for (let i = 1; i <= COUNT; i++) {
    const pw = withPasswords ? `, password: "pw-${i.toString(36)}-0123456789abcdef"` : '';
    rows.push(`  - { id: dev${i}, profile: vop, model: VOP${pw} }\n`);
  }
  writeFileSync(file, rows.join(''));
  return file;
}

async function timed(label: string, args: string[], dataDir: string, cwd: string): Promise<number> {
  const t0 = performance.now();
  const out = await aps(args, dataDir, cwd);
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(34)} ${s.toFixed(2).padStart(7)} s   ${out.trim().split('\n').at(-1)}`);
  return s;
}

await runBench(async () => {
  console.log(`aps apply, ${COUNT} devices (${machineNote()})`);
  const dir = tempDir('aps-bench-apply-');
  const plain = fleetFile(dir, 'plain.yaml', false);
  const secret = fleetFile(dir, 'passwords.yaml', true);
  const base = await timed('without passwords (baseline)', ['apply', plain], join(dir, 'data-plain'), dir);
  const withPw = await timed('with passwords', ['apply', secret], join(dir, 'data-pw'), dir);
  const again = await timed('with passwords, applied again', ['apply', secret], join(dir, 'data-pw'), dir);
  console.log(
    `\nratio to the baseline: with passwords ${(withPw / base).toFixed(2)}×, again ${(again / base).toFixed(2)}×; goal: ${COUNT} with passwords < 60 s`,
  );
}, 1800);
