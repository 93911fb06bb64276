import type { RolloutHealth } from '../adapter.ts';
import type { ArtifactRecord, EventRecord } from '../store/index.ts';
import { formatSeconds } from './options.ts';

export interface HealthInput {
  artifact: ArtifactRecord;
  /** The adapter's hook; undefined: `version`, compared with the artifact's version. */
  health: RolloutHealth | undefined;
  /** The device's events since it was given the artifact, oldest first. */
  events: readonly EventRecord[];
  /** Its reported state (`firmware`: what it says it runs). */
  reported: Record<string, unknown>;
  assignedAt: string;
  timeoutSeconds: number;
  now: number;
}

export type HealthVerdict = { status: 'pending' } | { status: 'succeeded' | 'failed'; detail: string };

/**
 * Whether a device took a rollout's artifact, from what its adapter recorded (vendor-blind: the adapter
 * only says how its devices report, src/adapter.ts RolloutHealth). Checked in this order: a fault about
 * the change, a download cut off, the reported version (or a complete download for `fetch`), a second
 * complete download while the old version is still reported, the timeout.
 */
export function judgeHealth(i: HealthInput): HealthVerdict {
  const a = i.artifact;
  const concerns = i.health?.concerns ?? ((e: EventRecord, x: ArtifactRecord) => e.artifactId === x.id);
  const fault = i.events.find((e) => e.fault && concerns(e, a));
  if (fault?.fault) return { status: 'failed', detail: `fault ${fault.fault.code}: ${fault.fault.message}` };
  const cut = i.events.find((e) => e.artifactId === a.id && e.status === 499);
  if (cut) return { status: 'failed', detail: `download of artifact ${a.id} cut off after ${cut.bytes} of ${a.size} bytes` };
  const complete = i.events.filter((e) => e.artifactId === a.id && e.status === 200 && e.bytes === a.size);
  // Devices report the firmware they run; any other kind is judged by its download.
  const expected =
    i.health?.reports === 'fetch' || a.kind !== 'firmware' ? undefined : (i.health?.versionOf?.(a) ?? a.version) || undefined;
  const raw = typeof i.reported.firmware === 'string' ? i.reported.firmware : undefined;
  const runs = raw !== undefined && i.health?.normalize ? i.health.normalize(raw) : raw;
  if (expected === undefined) {
    if (complete.length > 0) return { status: 'succeeded', detail: `fetched artifact ${a.id} completely (${a.size} bytes)` };
  } else {
    if (runs === expected) return { status: 'succeeded', detail: `reports ${expected}` };
    // Fetched, installed (or not), and asking for it again: the image does not take. Stop here rather than
    // send it forever.
    if (complete.length >= 2)
      return {
        status: 'failed',
        detail: `fetched artifact ${a.id} ${complete.length} times but still reports ${runs ?? '(nothing)'}, not ${expected}`,
      };
  }
  if (i.now - Date.parse(i.assignedAt) >= i.timeoutSeconds * 1000) {
    const seen = i.events.length > 0 ? `last heard ${i.events.at(-1)!.at}` : 'not heard from since';
    return { status: 'failed', detail: `not back within ${formatSeconds(i.timeoutSeconds)} (${seen}${runs ? `, reports ${runs}` : ''})` };
  }
  return { status: 'pending' };
}
