// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { isAppLink, matchRoute } from './router';

describe('router', () => {
  it('matches every page of the app', () => {
    const cases: [string, string, Record<string, string>][] = [
      ['/', 'landing', {}],
      ['/trial', 'trial', {}],
      ['/trial/abc-1', 'trialView', { id: 'abc-1' }],
      ['/sign-in', 'signIn', {}],
      ['/credits', 'credits', {}],
      ['/create', 'create', {}],
      ['/generations', 'generations', {}],
      ['/generations/g%201', 'generation', { id: 'g 1' }],
      ['/generations/', 'generations', {}],
      ['/privacy', 'privacy', {}],
      ['/export', 'export', {}],
      ['/refund', 'refund', {}],
      ['/unsubscribe', 'unsubscribe', {}],
      ['/admin/review', 'adminReview', {}],
    ];
    for (const [path, name, params] of cases) expect(matchRoute(path), path).toEqual({ name, params });
  });

  it('sends anything else to the 404 page', () => {
    for (const path of ['/nope', '/generations/a/b', '/admin', '/api/me']) expect(matchRoute(path).name).toBe('notFound');
  });

  it('handles only plain clicks on links of this app', () => {
    const origin = 'http://localhost:5180';
    const anchor = (href: string, attrs: Record<string, string> = {}) => {
      const a = document.createElement('a');
      a.href = href;
      for (const [k, v] of Object.entries(attrs)) a.setAttribute(k, v);
      return a;
    };
    const click = (init: MouseEventInit = {}) => new MouseEvent('click', { button: 0, ...init });
    expect(isAppLink(anchor(`${origin}/credits`), click(), origin)).toBe(true);
    expect(isAppLink(anchor(`${origin}/api/exports/download?p=1`), click(), origin)).toBe(false);
    expect(isAppLink(anchor('https://example.com/'), click(), origin)).toBe(false);
    expect(isAppLink(anchor(`${origin}/credits`), click({ ctrlKey: true }), origin)).toBe(false);
    expect(isAppLink(anchor(`${origin}/x.zip`, { download: '' }), click(), origin)).toBe(false);
    expect(isAppLink(anchor(`${origin}/x`, { target: '_blank' }), click(), origin)).toBe(false);
  });
});
