import { DeviceRegistry } from '../../src/devices/registry.ts';
import { Keyring } from '../../src/devices/secrets.ts';
import type { Store } from '../../src/store/index.ts';

/** A device registry over `store` with no profile rules (any profile, no clear secrets), its keys in `dir`. */
export function plainRegistry(store: Store, dir: string, credentialCacheMs = 1000): DeviceRegistry {
  return new DeviceRegistry(store, Keyring.load(dir), { needsClearSecret: () => false, assertProfile: () => undefined, credentialCacheMs });
}
