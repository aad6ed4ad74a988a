// A small router: the app's pages, matched from the path; links are plain <a href> that the
// app intercepts (so every link also works opened in a new tab or from an email).
import { useEffect, useState } from 'preact/hooks';

export type RouteName =
  | 'landing'
  | 'trial'
  | 'trialView'
  | 'signIn'
  | 'credits'
  | 'create'
  | 'generations'
  | 'generation'
  | 'privacy'
  | 'export'
  | 'refund'
  | 'unsubscribe'
  | 'adminReview'
  | 'adminCampaigns'
  | 'notFound';

export interface Route {
  name: RouteName;
  params: Record<string, string>;
}

const TABLE: [RouteName, RegExp][] = [
  ['landing', /^\/$/],
  ['trial', /^\/trial$/],
  ['trialView', /^\/trial\/(?<id>[^/]+)$/],
  ['signIn', /^\/sign-in$/],
  ['credits', /^\/credits$/],
  ['create', /^\/create$/],
  ['generations', /^\/generations$/],
  ['generation', /^\/generations\/(?<id>[^/]+)$/],
  ['privacy', /^\/privacy$/],
  ['export', /^\/export$/],
  ['refund', /^\/refund$/],
  ['unsubscribe', /^\/unsubscribe$/],
  ['adminReview', /^\/admin\/review$/],
  ['adminCampaigns', /^\/admin\/campaigns$/],
];

export function matchRoute(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  for (const [name, pattern] of TABLE) {
    const match = pattern.exec(path);
    if (match) {
      const params: Record<string, string> = {};
      for (const [key, value] of Object.entries(match.groups ?? {})) params[key] = decodeURIComponent(value);
      return { name, params };
    }
  }
  return { name: 'notFound', params: {} };
}

const CHANGE = 'anumi:navigate';

/** Whether the person has moved within the app (the first page keeps the browser's focus). */
let moved = false;
export const hasNavigated = () => moved;

export function navigate(to: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
}

/** The app's own links: same origin, not the API, no modifier key, no download or target. */
export function isAppLink(anchor: HTMLAnchorElement, event: MouseEvent, origin: string): boolean {
  if (event.defaultPrevented || event.button !== 0) return false;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return false;
  if (anchor.target || anchor.hasAttribute('download')) return false;
  const url = new URL(anchor.href, origin);
  return url.origin === origin && !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/_local/');
}

export function interceptLinks(root: HTMLElement): () => void {
  const onClick = (event: MouseEvent) => {
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (!anchor || !isAppLink(anchor, event, location.origin)) return;
    event.preventDefault();
    const url = new URL(anchor.href);
    navigate(url.pathname + url.search + url.hash);
  };
  root.addEventListener('click', onClick);
  return () => root.removeEventListener('click', onClick);
}

export interface Location {
  path: string;
  query: URLSearchParams;
  route: Route;
}

function current(): Location {
  return { path: location.pathname, query: new URLSearchParams(location.search), route: matchRoute(location.pathname) };
}

export function useLocation(): Location {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    const update = () => {
      moved = true;
      setWhere(current());
      window.scrollTo(0, 0);
    };
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return where;
}
