// BRURI backup/restore (step 4: placeholder until the core backup store is merged).
import type { AdapterContext } from '../../src/adapter-api.ts';
import type { AvayaConfig } from './settings.ts';

export function registerBackups(_ctx: AdapterContext<AvayaConfig>): void {}
