import { z } from 'zod';
import type { ArtifactRecord } from '../store/index.ts';

// A source's `rollout:` key: each artifact a run adds starts its own staged rollout. The rollout engine is
// not part of the sources; the process that runs syncs (server, `aps sync`) connects it through
// SourceHooks.onArtifactsAdded, and rolloutRequests() turns the key into one start request per artifact.

const percent = z.number().min(0.01).max(100);

export const rolloutSchema = z
  .object({
    /** Percent of the eligible devices per stage, strictly increasing (`aps rollout start --stages`). */
    stages: z
      .array(percent)
      .min(1)
      .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]!), { message: 'stages must be strictly increasing percentages' }),
    /** Only devices of these groups (`--group`, repeatable); none: every device the artifact fits. */
    groups: z.array(z.string().min(1)).min(1).optional(),
    /** Failures that halt the rollout: a count (`5`) or a share of the stage (`"5%"`). */
    maxFailures: z
      .union([z.number().int().min(0), z.string().regex(/^\d+(?:\.\d+)?%$/, 'a count or a percentage such as "5%"')])
      .optional(),
    /** How long a device may take to report the new version before it counts as failed (`"6h"`, `"30m"`). */
    timeout: z
      .string()
      .regex(/^\d+(?:s|m|h|d)$/, 'a duration such as "30m", "6h" or "1d"')
      .optional(),
  })
  .strict();

export type SourceRolloutConfig = z.infer<typeof rolloutSchema>;

/** What starting one artifact's rollout needs: the CLI's `aps rollout start` options, as data. */
export interface SourceRolloutRequest {
  artifactId: number;
  stages: number[];
  groups?: string[];
  maxFailures?: number | string;
  timeout?: string;
}

/** Called after a run added artifacts, for a source with a `rollout` key. A throw is recorded as the run's error. */
export type OnArtifactsAdded = (
  source: { name: string; rollout: SourceRolloutConfig },
  artifacts: readonly ArtifactRecord[],
) => Promise<void>;

/** What a sync run calls out to; the process wires these (the rollout engine lives elsewhere). */
export interface SourceHooks {
  onArtifactsAdded?: OnArtifactsAdded;
}

/** One rollout start request per added artifact, from the source's `rollout` key. */
export function rolloutRequests(rollout: SourceRolloutConfig, artifacts: readonly ArtifactRecord[]): SourceRolloutRequest[] {
  return artifacts.map((a) => ({
    artifactId: a.id,
    stages: [...rollout.stages],
    ...(rollout.groups ? { groups: [...rollout.groups] } : {}),
    ...(rollout.maxFailures !== undefined ? { maxFailures: rollout.maxFailures } : {}),
    ...(rollout.timeout ? { timeout: rollout.timeout } : {}),
  }));
}

/**
 * Why a source with `rollout:` may not map to a `release: auto` profile: there every artifact added is every
 * device's target at once, so the build would reach them all before the rollout (which then has nobody to select).
 */
export function autoUnderRollout(where: string, source: string, profile: string): string {
  return `${where}: profile "${profile}" is release: auto, so each build source "${source}" adds would reach every device at once; its rollout: needs release: manual in the profile`;
}
