import type { CoreServices } from '../core.ts';
import type { ArtifactRecord } from '../store/index.ts';

export interface ArtifactView extends ArtifactRecord {
  /** Ids of the devices whose target this artifact is now (in some slot), in id order. */
  targetedBy: string[];
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
  return core.catalog.list(profile).map((a) => ({ ...a, targetedBy: by.get(a.id) ?? [] }));
}
