import type { Adapter } from '../src/adapter-api.ts';
import { audiocodesAdapter } from './audiocodes/index.ts';
import { avayaAdapter } from './avaya/index.ts';
import { innovaphoneAdapter } from './innovaphone/index.ts';
import { tr069Adapter } from './tr069/index.ts';
import { vopAdapter } from './vop/index.ts';

/** Every adapter, in one static list: never discovered by scanning folders. */
export const ADAPTERS: readonly Adapter[] = [vopAdapter, tr069Adapter, audiocodesAdapter, avayaAdapter, innovaphoneAdapter];
