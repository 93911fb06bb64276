import { join } from 'node:path';
import { ADAPTERS } from '../../adapters/index.ts';
import { loadConfig, type ConfigInput } from '../../src/config.ts';
import { openCore, type Core } from '../../src/core.ts';
import { createLogger } from '../../src/log.ts';
import { manualProfiles } from './rollouts.ts';

type SourceInput = NonNullable<ConfigInput['sources']>[number];

/**
 * A core (no servers) with its data in `<dir>/data` and this one source. Profile vop is under
 * `release: manual`, since a source with `rollout:` maps only to such profiles (checked at start and per file).
 */
export function coreWithSource(dir: string, source: SourceInput): Core {
  const config = loadConfig({
    env: {},
    overrides: { dataDir: join(dir, 'data'), profilesDir: manualProfiles(['vop']), sources: [source] },
  });
  return openCore(config, ADAPTERS, createLogger('silent'));
}
