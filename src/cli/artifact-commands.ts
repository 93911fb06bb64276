import { artifactsWithTargets } from '../catalog/artifact-targets.ts';
import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { addArtifact, recordArtifactAdd } from '../catalog/artifact-audit.ts';
import { assertKind, slotKey } from '../catalog/catalog.ts';
import { importFolder } from '../catalog/folder-import.ts';
import { describeMove, retireArtifact } from '../catalog/retire.ts';
import { ApsError } from '../errors.ts';
import { collect, printTable, withCore } from './context.ts';

export function artifactCommands(program: Command, adapters: readonly Adapter[]): void {
  const artifact = program.command('artifact').description('the artifact catalog: firmware, bootstrap, config and auxiliary files');

  artifact
    .command('add')
    .argument('<file>', 'the file to add (stored once by sha256)')
    .requiredOption('--profile <profile>', 'profile the artifact belongs to')
    .requiredOption('--kind <kind>', 'bootstrap | firmware | config | aux')
    .option('--version <version>', 'version string (compared segment by segment)')
    .option('--serial <n>', 'numeric serial (higher is newer)')
    .option('--model <model>', 'a model it fits (repeatable; none = every model)', collect)
    .option('--role <role>', 'sub-type of an auxiliary file, e.g. cpt')
    .option('--device <id>', "make it this device's own artifact (e.g. its config file)")
    .option('--name <filename>', "file name devices see (default: the file's name)")
    .option('--json', 'print JSON')
    .action(async (file: string, o, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        const serial = o.serial === undefined ? null : Number(o.serial);
        if (serial !== null && !Number.isSafeInteger(serial))
          throw new ApsError('bad_request', `--serial must be an integer, not ${o.serial}`);
        const added = await addArtifact(
          core,
          { path: file },
          {
            kind: assertKind(o.kind),
            profile: core.profiles.require(o.profile).name,
            version: o.version,
            serial,
            models: o.model,
            role: o.role,
            deviceId: o.device ?? null,
            filename: o.name,
            origin: 'cli',
          },
          cliActor(),
        );
        const { artifact: a, existing, warning } = added;
        if (o.json) return console.log(JSON.stringify({ ...a, existing, ...(warning ? { warning } : {}) }, null, 2));
        if (existing) {
          console.log(
            `already in the catalog as #${a.id}: ${slotKey(a.kind, a.role)} ${a.filename} ${a.version} (these bytes fill that slot; nothing added)`,
          );
          return;
        }
        console.log(`added artifact ${a.id}: ${slotKey(a.kind, a.role)} ${a.filename} ${a.version} (${a.size} bytes, md5 ${a.md5})`);
        if (warning) console.log(`warning: ${warning}`);
      });
    });

  artifact
    .command('import')
    .argument('<dir>', 'a folder of files of one kind')
    .description('add every file of a folder (version from the file name); files already in the catalog are skipped')
    .requiredOption('--profile <profile>', 'profile the artifacts belong to')
    .requiredOption('--kind <kind>', 'bootstrap | firmware | config | aux')
    .option('--model <model>', 'a model they fit (repeatable)', collect)
    .option('--role <role>', 'sub-type of auxiliary files, e.g. cpt')
    .option('--json', 'print JSON')
    .action(async (dir: string, o, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        const r = await importFolder(core.catalog, dir, {
          profile: core.profiles.require(o.profile).name,
          kind: assertKind(o.kind),
          models: o.model,
          role: o.role,
        });
        const who = cliActor();
        for (const a of r.added) recordArtifactAdd(core.audit, who, { artifact: a, existing: false });
        if (o.json) return console.log(JSON.stringify(r, null, 2));
        for (const a of r.added) console.log(`added artifact ${a.id}: ${a.filename} ${a.version}`);
        for (const s of r.skipped) console.log(`skipped ${s.file}: ${s.reason}`);
        console.log(`${r.added.length} added, ${r.unchanged.length} already in the catalog, ${r.skipped.length} skipped`);
      });
    });

  artifact
    .command('list')
    .option('--profile <profile>', 'only this profile')
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const list = artifactsWithTargets(core, o.profile);
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        printTable(
          list.map((a) => ({
            ...a,
            kind: a.role ? `${a.kind}:${a.role}` : a.kind,
            models: a.models.join(','),
            device: a.deviceId,
            targets: a.targetedBy.length,
          })),
          ['id', 'profile', 'kind', 'version', 'serial', 'models', 'device', 'filename', 'size', 'status', 'md5', 'targets'],
        );
      });
    });

  artifact
    .command('rm')
    .argument('<id>', 'artifact id')
    .description("remove an artifact (refused while it is some device's target, unless --force)")
    .option('--force', 'also when it is a target: its devices move to the previous artifact of the slot (pins included)')
    .option('--json', 'print JSON')
    .action(async (id: string, o, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        if (!/^\d+$/.test(id)) throw new ApsError('bad_request', `artifact id must be a number, not "${id}"`);
        const { artifact: a, moved } = await retireArtifact(core, Number(id), o.force === true, cliActor());
        if (o.json) return console.log(JSON.stringify({ ...a, moved }, null, 2));
        console.log(`removed artifact ${a.id} (${a.filename})`);
        for (const m of moved) console.log(`  ${describeMove(a, m)}`);
      });
    });
}
