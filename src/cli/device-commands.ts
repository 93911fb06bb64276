import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { describeDevice, type DeviceView } from '../devices/describe.ts';
import { saveDevice } from '../devices/device-audit.ts';
import { DEVICE_STATUSES, listDevices, PAGE_DEFAULT, PAGE_MAX } from '../devices/device-list.ts';
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
    .description('devices in id order, a page at a time (GET /api/v1/devices)')
    .option('--adapter <name>', 'only this adapter')
    .option('--profile <profile>', 'only this profile')
    .option('--group <group>', 'only this group')
    .option('--version <version>', 'only devices running this firmware version (reported, else fetched)')
    .option('--status <status>', `only ${DEVICE_STATUSES.join(', ')} devices`)
    .option('--search <text>', "part of the id, the MAC (any spelling) or the last IP address (the API's q)")
    .option('--limit <n>', `page size (1 to ${PAGE_MAX})`, String(PAGE_DEFAULT))
    .option('--after <id>', "the page after this id (the previous page's next)")
    .option('--json', 'print JSON: {items, next}')
    .action(async (o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const page = listDevices(core, { ...o, q: o.search });
        if (o.json) return console.log(JSON.stringify(page, null, 2));
        printTable(
          page.items.map((v) => ({ ...v, firmware: firmwareColumn(v), lastSeen: v.state?.lastSeen, lastIp: v.state?.lastIp })),
          ['id', 'profile', 'model', 'mac', 'group', 'status', 'firmware', 'lastSeen', 'lastIp'],
        );
        if (page.next !== null) console.log(`more: --after ${page.next}`);
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
  return v.firmware ? `${v.firmware.version}${v.firmware.basis === 'fetched' ? ' (fetched)' : ''}` : undefined;
}
