import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { ApsError } from '../errors.ts';
import {
  abortRollout,
  describeRollout,
  evaluateRollouts,
  listRollouts,
  pauseRollout,
  promoteRollout,
  resumeRollout,
  rolloutStatus,
  startRollout,
  type Rollout,
} from '../rollouts/rollouts.ts';
import { collect, printTable, withCore } from './context.ts';

function idOf(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new ApsError('bad_request', `${what} must be a number, not "${text}"`);
  return Number(text);
}

function print(r: Rollout, json: boolean): void {
  if (json) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(describeRollout(r));
    if (r.reason) console.log(`  ${r.reason}`);
  }
}

export function rolloutCommands(program: Command, adapters: readonly Adapter[]): void {
  const rollout = program
    .command('rollout')
    .description('staged rollouts: make a candidate artifact the target of a growing share of devices, halting on failures');

  rollout
    .command('start')
    .argument('<artifact>', 'artifact id (a candidate under release: manual)')
    .option('--group <group>', 'only devices of this group (repeatable)', collect)
    .option('--stages <list>', 'percentages of the eligible devices, stage by stage', '1,10,50,100')
    .option('--max-failures <n>', 'halt when more devices fail than this: a percentage (5%) or a count', '5%')
    .option('--timeout <duration>', 'a device not back with the new version within this fails (30s, 10m, 6h)', '6h')
    .option('--auto-promote', "go to the next stage once a stage's devices are done")
    .option('--json', 'print JSON')
    .action(async (artifact: string, o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const r = startRollout(
          core,
          {
            artifactId: idOf(artifact, 'artifact id'),
            groups: o.group,
            stages: o.stages,
            maxFailures: o.maxFailures,
            timeout: o.timeout,
            autoPromote: o.autoPromote === true,
          },
          cliActor(),
        );
        print(r, o.json === true);
      });
    });

  rollout
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const list = listRollouts(core);
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        printTable(
          list.map((r) => ({
            ...r,
            artifact: r.artifactId,
            stage: `${r.stage + 1}/${r.stages.length} (${r.percent} %)`,
            devices: r.counts.devices,
            succeeded: r.counts.succeeded,
            failed: r.counts.failed,
            pending: r.counts.pending,
          })),
          ['id', 'artifact', 'profile', 'slot', 'state', 'stage', 'devices', 'succeeded', 'failed', 'pending'],
        );
      });
    });

  rollout
    .command('status')
    .argument('<id>', 'rollout id')
    .option('--json', 'print JSON')
    .action(async (id: string, o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        evaluateRollouts(core);
        const r = rolloutStatus(core, idOf(id, 'rollout id'));
        if (o.json) return console.log(JSON.stringify(r, null, 2));
        print(r, false);
        printTable(
          r.devices.map((d) => ({ device: d.deviceId, stage: d.stage + 1, previous: d.previousId, status: d.status, detail: d.detail })),
          ['device', 'stage', 'previous', 'status', 'detail'],
        );
      });
    });

  const verbs = [
    ['promote', promoteRollout, 'the next stage now (from the last: complete); also goes on past a halt'],
    ['pause', pauseRollout, 'no promotion until resumed'],
    ['resume', resumeRollout, 'go on after a pause'],
    ['abort', abortRollout, 'stop: its devices return to their previous target'],
  ] as const;
  for (const [verb, fn, what] of verbs) {
    rollout
      .command(verb)
      .argument('<id>', 'rollout id')
      .description(what)
      .option('--json', 'print JSON')
      .action(async (id: string, o, cmd: Command) => {
        await withCore(cmd, adapters, (core) => {
          const r = fn(core, idOf(id, 'rollout id'), cliActor());
          print(r, o.json === true);
        });
      });
  }
}
