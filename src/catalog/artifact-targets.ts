import type { CoreServices } from '../core.ts';
import type { ArtifactStatus } from './catalog.ts';
import type { ArtifactRecord } from '../store/index.ts';

export interface ArtifactView extends ArtifactRecord {
  /** Ids of the devices whose target this artifact is now (in some slot), in id order. */
  targetedBy: string[];
  /** target: some device gets it now; candidate: waits for a rollout or a pin (release: manual); retired: neither. */
  status: ArtifactStatus | undefined;
}

/** The catalog (optionally one profile's) with the devices each artifact is the target of: `GET /artifacts`, `aps artifact list`. */
export function artifactsWithTargets(core: Pick<CoreServices, 'catalog' | 'devices'>, profile?: string): ArtifactView[] {
  const by = new Map<number, string[]>();
  for (const d of core.devices.list()) {
    if (profile !== undefined && d.profile !== profile) continue;
    for (const a of core.catalog.targets(d).values()) {
      const list = by.get(a.id) ?? [];
      if (list.at(-1) !== d.id) list.push(d.id);
      by.set(a.id, list);
    }
  }
  const list = core.catalog.list(profile);
  const status = core.catalog.statuses(list);
  return list.map((a) => ({ ...a, targetedBy: by.get(a.id) ?? [], status: status.get(a.id) }));
}
