import { resolve } from 'node:path';
import type { Command } from 'commander';
import { backupData, restoreData, verifyData, type VerifyReport } from '../data-backup.ts';
import { commandConfig } from './context.ts';

function printReport(r: VerifyReport): void {
  const lines = [
    `folder: ${r.folder}`,
    `store integrity: ${r.integrity.length === 0 ? 'ok' : r.integrity.join('; ')}`,
    `blobs: ${r.blobs.checked} checked, ${r.blobs.mismatched.length} not matching their sha256, ${r.blobs.missing.length} missing, ${r.blobs.orphans.length} orphaned`,
    ...r.blobs.mismatched.map((s) => `  mismatched: ${s}`),
    ...r.blobs.missing.map((s) => `  missing: ${s}`),
    ...r.blobs.orphans.map((s) => `  orphan (no artifact names it): ${s}`),
    `device backup files missing: ${r.deviceBackupsMissing.length}`,
    ...r.deviceBackupsMissing.map((p) => `  missing: ${p}`),
  ];
  if (r.manifest) {
    lines.push(`manifest: ${r.manifest.checked} files, ${r.manifest.mismatched.length} missing or not matching`);
    lines.push(...r.manifest.mismatched.map((p) => `  mismatched: ${p}`));
  }
  lines.push(r.ok ? 'verify: OK' : 'verify: FAILED');
  console.log(lines.join('\n'));
}

/** data backup | verify | restore: backups of APS's own data folder (store, blobs, keys). */
export function dataCommands(program: Command): void {
  const data = program.command('data').description("backups of APS's own data folder: store, blobs, device backups, keys");

  data
    .command('backup')
    .argument('<dir>', 'a new or empty folder to write the backup into')
    .description('copy the data folder (online: the server may keep running) with a manifest of sha256s')
    .option('--json', 'print the manifest as JSON')
    .option('--without-keys', 'leave out secret.key, admin.token and tls/ (keep secret.key apart: restore needs it, --key)')
    .action(async (dir: string, o: { json?: boolean; withoutKeys?: boolean }, cmd: Command) => {
      const config = commandConfig(cmd);
      const m = await backupData(config.dataDir, resolve(dir), { withoutKeys: o.withoutKeys === true });
      if (o.json) return console.log(JSON.stringify(m, null, 2));
      const bytes = m.files.reduce((n, f) => n + f.size, 0);
      console.log(
        `backed up ${config.dataDir} into ${resolve(dir)}: ${m.files.length} files, ${bytes} bytes, ${m.artifacts} artifacts, ${m.deviceBackups} device backups`,
      );
    });

  data
    .command('verify')
    .argument('[dir]', 'a backup folder (default: the data folder itself)')
    .description("integrity check of the store, every blob's sha256 against the catalog, orphan and missing blobs (exit 1 on a fault)")
    .option('--json', 'print JSON')
    .action(async (dir: string | undefined, o: { json?: boolean }, cmd: Command) => {
      const r = await verifyData(dir ? resolve(dir) : commandConfig(cmd).dataDir);
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else printReport(r);
      if (!r.ok) process.exitCode = 1;
    });

  data
    .command('restore')
    .argument('<dir>', 'a backup folder written by `aps data backup`')
    .description('verify a backup and copy it into a data folder that holds no store yet (stop the server first)')
    .option('--data-dir <dir>', 'the data folder to restore into (default: --data / APS_DATA)')
    .option('--key <file>', 'the secret.key kept apart from a backup taken --without-keys')
    .option('--json', 'print JSON')
    .action(async (dir: string, o: { dataDir?: string; key?: string; json?: boolean }, cmd: Command) => {
      const target = o.dataDir ? resolve(o.dataDir) : commandConfig(cmd).dataDir;
      const r = await restoreData(resolve(dir), target, o.key === undefined ? {} : { keyFile: resolve(o.key) });
      if (o.json) return console.log(JSON.stringify({ dataDir: target, ...r }, null, 2));
      console.log(`restored ${r.files} files from ${resolve(dir)} into ${target}`);
    });
}
