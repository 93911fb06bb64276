import { useEffect, useRef } from 'preact/hooks';
import type { DeviceEvent } from './api.ts';

// One EventSource for the whole console (GET /api/v1/events/stream with the session cookie); pages
// subscribe to it. The browser reconnects by itself; a stream refused for an ended session sends us to login.
type Listener = (e: DeviceEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;

export function startLive(onState: (connected: boolean) => void): void {
  source = new EventSource('/api/v1/events/stream');
  source.addEventListener('device', (m: MessageEvent<string>) => {
    const e = JSON.parse(m.data) as DeviceEvent;
    for (const l of listeners) l(e);
  });
  source.onopen = (): void => onState(true);
  source.onerror = (): void => onState(false);
}

export function stopLive(): void {
  source?.close();
}

/** Subscribes; returns the unsubscribe (for useEffect). */
export function onLive(fn: Listener): () => void {
  listeners.add(fn);
  return () => void listeners.delete(fn);
}

const every = (): boolean => true;

/**
 * Refetches when the server records an event `when` accepts (all by default), at most once per `delayMs`:
 * a busy fleet sends many events a second.
 */
export function useLiveRefresh(refresh: () => void, when: (e: DeviceEvent) => boolean = every, delayMs = 3000): void {
  const timer = useRef<number>(undefined);
  useEffect(
    () =>
      onLive((e) => {
        if (!when(e) || timer.current !== undefined) return;
        timer.current = window.setTimeout(() => ((timer.current = undefined), refresh()), delayMs);
      }),
    [refresh, when, delayMs],
  );
}
