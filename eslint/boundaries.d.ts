// Types for eslint/boundaries.js (plain JS so eslint.config.js can load it without a TypeScript loader).
import type { Linter } from 'eslint';

export declare const SRC_NO_ADAPTERS: string;
export declare const ADAPTER_CORE_INTERNAL: string;
export declare const ADAPTER_OUTSIDE: string;
export declare const INDEX_ONLY: string;
export declare const boundaryConfigs: Linter.Config[];
