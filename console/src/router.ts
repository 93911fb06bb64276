import { useEffect, useState } from 'preact/hooks';

// The console's few routes live under /ui/; links are plain <a href> and clicks on them are caught here, so
// every page has a real URL (reload, bookmark, open in a new tab) and the server answers it with index.html.
export const BASE = '/ui';

export function navigate(to: string): void {
  history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = (): void => setPath(location.pathname + location.search);
    window.addEventListener('popstate', on);
    const click = (e: MouseEvent): void => {
      const a = (e.target as Element | null)?.closest('a');
      if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
      const url = new URL(a.href, location.href);
      if (url.origin !== location.origin || !url.pathname.startsWith(`${BASE}/`)) return;
      e.preventDefault();
      navigate(url.pathname + url.search);
    };
    document.addEventListener('click', click);
    return () => {
      window.removeEventListener('popstate', on);
      document.removeEventListener('click', click);
    };
  }, []);
  return path;
}
