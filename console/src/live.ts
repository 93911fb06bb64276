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
