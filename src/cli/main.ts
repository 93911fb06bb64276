import { Command, CommanderError } from 'commander';
import type { Adapter } from '../adapter.ts';
import { isApsError } from '../errors.ts';
import { adapterCli } from './adapter-cli.ts';
import { applyCommand } from './apply-command.ts';
import { artifactCommands } from './artifact-commands.ts';
import { auditCommands } from './audit-commands.ts';
import { backupCommands } from './backup-commands.ts';
import { deviceCommands } from './device-commands.ts';
import { deviceOpsCommands } from './device-ops-commands.ts';
import { serveCommand } from './serve-command.ts';
import { syncCommand } from './sync-command.ts';
import { tokenCommands } from './token-commands.ts';

export function buildProgram(adapters: readonly Adapter[]): Command {
  const program = new Command('aps')
    .description('APS: one provisioning server for a mixed fleet of VoIP phones and gateways')
    .option('--data <dir>', 'data folder: SQLite, blobs, keys (APS_DATA, default ./data)')
    .option('--profiles <dir>', 'profiles folder (APS_PROFILES, default ./profiles)')
    .option('--config <file>', 'site configuration (APS_CONFIG, default ./aps.yaml when present)')
    .showHelpAfterError()
    .exitOverride();
  serveCommand(program, adapters);
  artifactCommands(program, adapters);
  deviceCommands(program, adapters);
  applyCommand(program, adapters);
  deviceOpsCommands(program, adapters);
  backupCommands(program, adapters);
  syncCommand(program, adapters);
  tokenCommands(program, adapters);
  auditCommands(program, adapters);
  const simulate = program.command('simulate').description('run a device simulator against any server');
  for (const a of adapters) {
    if (a.simulator) a.simulator(simulate.command(a.name).description(`simulate ${a.description}`));
  }
  for (const a of adapters) {
    if (a.commands) a.commands(program.command(a.name).description(`${a.name} adapter commands`), adapterCli(a, adapters));
  }
  return program;
}

/** Runs the CLI; returns the exit code. Errors print one clear line, never a stack (APS_DEBUG=1 shows it). */
export async function main(argv: string[], adapters: readonly Adapter[]): Promise<number> {
  const program = buildProgram(adapters);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (process.env.APS_DEBUG) console.error(e);
    const msg = isApsError(e) ? e.message : e instanceof Error ? e.message : String(e);
    console.error(`aps: ${msg}`);
    return 1;
  }
}
