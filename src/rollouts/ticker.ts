import type { RolloutCore } from './rollouts.ts';
import { evaluateRollouts } from './rollouts.ts';

export interface RolloutTicker {
  /** Evaluates now (and the next tick as usual). */
  evaluate(): void;
  stop(): void;
}

/**
 * The server's rollout clock: health is judged every `tickSeconds` (timeouts happen without the device)
 * and soon after an event of a device a rollout waits for, so a success or fault is seen at once. The
 * timers are unref'd: they never keep the process alive.
 */
export function startRolloutTicker(core: RolloutCore, tickSeconds: number): RolloutTicker {
  let watched = new Set<string>();
  // The store generation at the last evaluation: a rollout started or promoted since (here, by the CLI or
  // another node) has devices `watched` does not know yet.
  let seenGen = -1;
  let soon: NodeJS.Timeout | null = null;
  let stopped = false;
  const evaluate = (): void => {
    if (soon) clearTimeout(soon);
    soon = null;
    if (stopped) return;
    try {
      watched = evaluateRollouts(core, Date.now(), { server: true });
      seenGen = core.store.state.generation();
    } catch (e) {
      core.log.error({ err: e }, 'rollout evaluation failed');
    }
  };
  const timer = setInterval(evaluate, tickSeconds * 1000).unref();
  core.events.onEvent((e) => {
    // The event is still queued: evaluate after the sink's next flush (it batches for 50 ms).
    if (stopped || soon || !e.deviceId || e.adapter === 'rollout') return;
    if (watched.has(e.deviceId) || core.store.state.generation() !== seenGen) soon = setTimeout(evaluate, 100).unref();
  });
  evaluate();
  return {
    evaluate,
    stop(): void {
      stopped = true;
      clearInterval(timer);
      if (soon) clearTimeout(soon);
    },
  };
}
