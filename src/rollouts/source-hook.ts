import type { SourceHooks } from '../sources/rollout-hook.ts';
import { rolloutRequests } from '../sources/rollout-hook.ts';
import { startRollout, type RolloutCore } from './rollouts.ts';

/** Connects a source's `rollout:` key to the engine: each artifact a sync adds starts its own staged rollout. */
export function rolloutSourceHooks(core: RolloutCore): SourceHooks {
  return {
    onArtifactsAdded: (source, artifacts) => {
      for (const request of rolloutRequests(source.rollout, artifacts)) {
        // Audited under the source's name, as its prune is: a change nobody typed, whoever started the sync.
        const r = startRollout(core, request, `source:${source.name}`);
        core.log.info({ source: source.name, rollout: r.id, artifact: r.artifactId }, 'source started a rollout');
      }
      return Promise.resolve();
    },
  };
}
