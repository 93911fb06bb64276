import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, send, toLogin } from './api.ts';
import { ArtifactsPage } from './artifacts.tsx';
import { DevicePage } from './device.tsx';
import { EventsPage } from './events.tsx';
import { FleetPage } from './fleet.tsx';
import { RolloutPage, RolloutsPage } from './rollouts.tsx';
import { SourcesPage } from './sources.tsx';
import { startLive, stopLive } from './live.ts';
import { BASE, usePath } from './router.ts';
import './style.css';

function Page({ path }: { path: string }) {
  const url = new URL(path, location.origin);
  const device = /^\/ui\/devices\/([^/]+)$/.exec(url.pathname);
  if (device) return <DevicePage id={decodeURIComponent(device[1]!)} />;
  const rollout = /^\/ui\/rollouts\/(\d+)$/.exec(url.pathname);
  if (rollout) return <RolloutPage id={Number(rollout[1])} />;
  if (url.pathname === `${BASE}/rollouts`) return <RolloutsPage />;
  if (url.pathname === `${BASE}/artifacts`) return <ArtifactsPage />;
  if (url.pathname === `${BASE}/events`) return <EventsPage />;
  if (url.pathname === `${BASE}/sources`) return <SourcesPage />;
  return <FleetPage />;
}

function titleOf(pathname: string): string {
  const device = /^\/ui\/devices\/([^/]+)$/.exec(pathname);
  if (device) return `Device ${decodeURIComponent(device[1]!)}`;
  const rollout = /^\/ui\/rollouts\/(\d+)$/.exec(pathname);
  if (rollout) return `Rollout ${rollout[1]}`;
  const pages: Record<string, string> = { artifacts: 'Artifacts', rollouts: 'Rollouts', events: 'Events', sources: 'Sources' };
  return pages[pathname.split('/')[2] ?? ''] ?? 'Fleet';
}

function App() {
  const path = usePath();
  const [who, setWho] = useState<{ name: string; expiresAt?: string }>();
  const [live, setLive] = useState(false);
  useEffect(() => {
    void get<{ name: string; expiresAt?: string }>('/session').then(setWho, () => undefined);
    // A stream that drops may mean the session ended (expiry, logout elsewhere): asking says so, and a 401
    // sends the console to the login page.
    startLive((up) => {
      setLive(up);
      if (!up) void get('/session').catch(() => undefined);
    });
    return stopLive;
  }, []);
  // A new page moves the focus to it (keyboard and screen-reader users start there) and names the tab.
  const first = useRef(true);
  useEffect(() => {
    document.title = `${titleOf(new URL(path, location.origin).pathname)} · APS console`;
    if (first.current) first.current = false;
    else document.getElementById('main')?.focus();
  }, [path]);
  const logout = async (): Promise<void> => {
    stopLive();
    await send('DELETE', '/session');
    toLogin();
  };
  const link = (href: string, label: string) => {
    const current = href === `${BASE}/` ? !/^\/ui\/(artifacts|rollouts|events|sources)/.test(path) : path.startsWith(href);
    return (
      <a href={href} aria-current={current ? 'page' : undefined}>
        {label}
      </a>
    );
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <strong>APS</strong>
        <nav aria-label="Console">
          {link(`${BASE}/`, 'Fleet')}
          {link(`${BASE}/artifacts`, 'Artifacts')}
          {link(`${BASE}/rollouts`, 'Rollouts')}
          {link(`${BASE}/events`, 'Events')}
          {link(`${BASE}/sources`, 'Sources')}
        </nav>
        <span class="live" role="status" aria-live="polite">
          {live ? 'Live' : 'Not live'}
        </span>
        {who && <span class="who">{who.name}</span>}
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
