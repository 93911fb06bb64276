// What an adapter's own commands (`aps <adapter> …`) get from the CLI: its narrow services over an opened
// core, a catalog writer limited to its own profiles and devices, and the profile writer.
import type { Command } from 'commander';
import type { Adapter, AdapterCli, CatalogWriter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { addArtifact } from '../catalog/artifact-audit.ts';
import { ApsError } from '../errors.ts';
import { writeProfileFiles } from '../profiles/profile-writer.ts';
import { collect, commandConfig, withCore } from './context.ts';

export function adapterCli(adapter: Adapter, adapters: readonly Adapter[]): AdapterCli {
  return {
    collect,
    withServices: (cmd, fn) =>
      withCore(cmd, adapters, (core) => {
        const s = core.servicesFor(adapter.name);
        const catalog: CatalogWriter = {
          ...s.catalog,
          async addBuffer(bytes, input) {
            if (core.adapterNameOf(input.profile) !== adapter.name) {
              throw new ApsError('bad_request', `profile "${input.profile}" is not a ${adapter.name} profile`);
            }
            if (input.deviceId && !s.devices.get(input.deviceId))
              throw new ApsError('not_found', `no ${adapter.name} device ${input.deviceId}`);
            return (await addArtifact(core, { bytes }, input, cliActor())).artifact;
          },
        };
        return fn({ ...s, catalog });
      }),
    writeProfile: (cmd: Command, p) =>
      writeProfileFiles(commandConfig(cmd).profilesDir, p, (name) => adapters.find((a) => a.name === name)?.profileSchema),
  };
}
