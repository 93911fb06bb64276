import type { Adapter } from '../src/adapter.ts';
import { vopAdapter } from './vop/index.ts';

/** Every adapter, in one static list: never discovered by scanning folders. */
export const ADAPTERS: readonly Adapter[] = [vopAdapter];
