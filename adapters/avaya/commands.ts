import type { Command } from 'commander';
import type { Adapter } from '../../src/adapter-api.ts';

export function avayaCommands(_cmd: Command, _adapters: readonly Adapter[]): void {}
