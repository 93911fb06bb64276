import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { describeDevice, type DeviceView } from '../devices/describe.ts';
import { saveDevice } from '../devices/device-audit.ts';
import { removeDevice } from '../devices/remove-device.ts';
import type { DeviceInput } from '../devices/registry.ts';
import { ApsError } from '../errors.ts';
import { collect, keyValues, printTable, withCore } from './context.ts';

function deviceOptions(cmd: Command): Command {
  return cmd
    .option('--profile <profile>', 'the device family profile')
    .option('--model <model>', 'device model')
    .option('--mac <mac>', 'MAC address (any usual spelling)')
    .option('--password <password>', 'device password (stored hashed; encrypted where the protocol needs it clear)')
    .option('--group <group>', 'group name')
    .option('--var <KEY=VALUE>', 'a variable (repeatable; KEY= removes it)', collect)
    .option('--status <status>', 'active, or pending (known but not served: e.g. a CPE that registered itself)')
    .option('--pin <SLOT=ID>', 'pin a slot (firmware, config, aux:cpt…) to an artifact id (repeatable; SLOT= unpins)', collect)
    .option('--json', 'print the device as JSON');
}

function toInput(id: string, o: Record<string, any>): DeviceInput {
  const pins: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(keyValues(o.pin, '--pin'))) {
    if (v !== null && !/^\d+$/.test(v)) throw new ApsError('bad_request', `--pin ${k}= needs an artifact id, not "${v}"`);
    pins[k] = v === null ? null : Number(v);
  }
  if (o.status !== undefined && o.status !== 'active' && o.status !== 'pending')
    throw new ApsError('bad_request', `--status must be active or pending, not "${o.status}"`);
  return {
    id,
    profile: o.profile,
    model: o.model,
    mac: o.mac,
    password: o.password,
    group: o.group,
    vars: keyValues(o.var, '--var'),
    pins,
    status: o.status,
  };
}

export function deviceCommands(program: Command, adapters: readonly Adapter[]): void {
  const device = program.command('device').description('devices: identity, credentials, variables and pins');

  deviceOptions(device.command('add').argument('<id>', 'stable id: the user name, MAC or serial the device is known by')).action(
    async (id: string, o, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        if (!o.profile) throw new ApsError('bad_request', 'device add needs --profile');
        const d = await saveDevice(core, toInput(id, o), 'create', cliActor());
        console.log(o.json ? JSON.stringify(describeDevice(core, d), null, 2) : `added device ${d.id} (${d.profile})`);
      });
    },
  );

  deviceOptions(device.command('set').argument('<id>', 'device id')).action(async (id: string, o, cmd: Command) => {
    await withCore(cmd, adapters, async (core) => {
      const d = await saveDevice(core, toInput(id, o), 'update', cliActor());
      console.log(o.json ? JSON.stringify(describeDevice(core, d), null, 2) : `updated device ${d.id}`);
    });
  });

  device
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const views = core.devices.list().map((d) => describeDevice(core, d));
        if (o.json) return console.log(JSON.stringify(views, null, 2));
        printTable(
          views.map((v) => ({ ...v, firmware: firmwareColumn(v), lastSeen: v.state?.lastSeen, lastIp: v.state?.lastIp })),
          ['id', 'profile', 'model', 'mac', 'group', 'status', 'firmware', 'lastSeen', 'lastIp'],
        );
      });
    });

  device
    .command('show')
    .argument('<id>', 'device id')
    .option('--json', 'print JSON (includes `setup`: what to configure on the device)')
    .action(async (id: string, o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const d = core.devices.get(id);
        if (!d) throw new ApsError('not_found', `no device ${id}`);
        const v = describeDevice(core, d);
        if (o.json) return console.log(JSON.stringify(v, null, 2));
        console.log(
          `device ${v.id}  profile ${v.profile} (${v.adapter})  model ${v.model ?? '-'}  mac ${v.mac ?? '-'}  group ${v.group ?? '-'}  ${v.status}`,
        );
        console.log(`password: ${v.hasPassword ? 'set' : 'none'}`);
        for (const [k, val] of Object.entries(v.vars)) console.log(`var ${k} = ${val}`);
        for (const [slot, t] of Object.entries(v.targets))
          console.log(`target ${slot}: artifact ${t.id} ${t.filename} ${t.version}${v.pins[slot] ? ' (pinned)' : ''}`);
        for (const n of v.notes) console.log(`note: ${n}`);
        if (v.window) {
          const w = v.window;
          const when = w.open ? `open until ${w.closesAt}` : `closed, opens ${w.nextStart ?? 'never'}`;
          console.log(`window: ${w.description} from its ${w.source}: ${when}`);
          if (w.pending.length) console.log(`  pending until it opens: ${w.pending.join(', ')}`);
        }
        console.log(`last seen: ${v.state?.lastSeen ?? 'never'}${v.state?.lastIp ? ` from ${v.state.lastIp}` : ''}`);
        console.log(`setup: ${v.setup.url}`);
        for (const h of v.setup.hints) console.log(`  ${h}`);
      });
    });

  device
    .command('rm')
    .argument('<id>', 'device id')
    .option('--json', 'print JSON: the removed device, its own artifacts and the number of backups removed with it')
    .action(async (id: string, o, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        const { device: d, artifacts, backups } = await removeDevice(core, id, cliActor());
        if (o.json) return console.log(JSON.stringify({ device: d.id, profile: d.profile, removed: true, artifacts, backups }, null, 2));
        console.log(
          `removed device ${id}${artifacts.length ? ` and its own artifact${artifacts.length > 1 ? 's' : ''} ${artifacts.map((a) => a.id).join(', ')}` : ''}${backups ? ` and ${backups} backup${backups > 1 ? 's' : ''}` : ''}`,
        );
      });
    });
}

/** What the device says it runs, or else what it last downloaded completely, marked as such. */
function firmwareColumn(v: DeviceView): string | undefined {
  const reported = v.state?.reported.firmware;
  if (typeof reported === 'string') return reported;
  const fetched = v.state?.fetched.firmware?.version;
  return fetched ? `${fetched} (fetched)` : undefined;
}
