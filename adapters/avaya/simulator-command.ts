import type { Command } from 'commander';

export function avayaSimulatorCommand(_cmd: Command): void {}
