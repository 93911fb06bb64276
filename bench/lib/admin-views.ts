// The admin views a console or an operator opens on a big fleet, timed against a running APS: the paged
// device list (first page, a page from a cursor, each kind of filter), events, the fleet summary, and the
// CLI's `aps device list --limit 100` (a whole process: start-up included). Each HTTP view is asked
// `rounds` times; prints the median and the slowest, in ms, and the size of the answer.
import { aps, HOST } from './harness.ts';

export interface AdminViewTiming {
  view: string;
  medianMs: number;
  maxMs: number;
  items: number;
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

/** Times `paths` (under /api/v1) and the CLI list; `cursor` is a device id in the middle of the fleet. */
export async function timeAdminViews(o: {
  port: number;
  adminToken: string;
  dataDir: string;
  cwd: string;
  paths: string[];
  rounds?: number;
}): Promise<AdminViewTiming[]> {
  const out: AdminViewTiming[] = [];
  for (const path of o.paths) {
    const ms: number[] = [];
    let items = 0;
    for (let i = 0; i < (o.rounds ?? 5); i++) {
      const t = performance.now();
      const r = await fetch(`http://${HOST}:${o.port}/api/v1${path}`, { headers: { authorization: `Bearer ${o.adminToken}` } });
      const body = (await r.json()) as { items?: unknown[]; devices?: unknown[] };
      ms.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(body).slice(0, 200)}`);
      items = (body.items ?? body.devices ?? []).length;
    }
    out.push({ view: `GET ${path}`, medianMs: median(ms), maxMs: Math.max(...ms), items });
  }
  const ms: number[] = [];
  let items = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const stdout = await aps(['device', 'list', '--limit', '100', '--json'], o.dataDir, o.cwd);
    ms.push(performance.now() - t);
    items = (JSON.parse(stdout) as { items: unknown[] }).items.length;
  }
  out.push({ view: 'aps device list --limit 100 --json (whole process)', medianMs: median(ms), maxMs: Math.max(...ms), items });
  return out;
}

export function printAdminViews(title: string, rows: AdminViewTiming[]): void {
  console.log(title);
  for (const r of rows)
    console.log(
      `  ${r.view.padEnd(60)} median ${r.medianMs.toFixed(1).padStart(8)} ms  max ${r.maxMs.toFixed(1).padStart(8)} ms  ${r.items} items`,
    );
}
