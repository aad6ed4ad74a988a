import type { ComponentType } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { getMe, setLocale as postLocale, signOut } from './api/client';
import type { Wallet } from './api/types';
import { FeedbackWidget } from './components/feedback';
import { MESSAGES } from './i18n';
import { chooseLocale, type Locale } from './lib/locale';
import { Landing } from './landing/landing';
import { interceptLinks, navigate, useLocation, type RouteName } from './router';
import { AppContext, useApp, type AppState } from './state';
import { Loading } from './components/status';

type PageModule = { default: ComponentType<{ params: Record<string, string>; query: URLSearchParams }> };

/** Every page but the landing is loaded on first visit, so the first page stays small. */
const PAGES: Record<Exclude<RouteName, 'landing'>, () => Promise<PageModule>> = {
  trial: () => import('./trial/trial'),
  trialView: () => import('./trial/trial-view'),
  signIn: () => import('./sign-in/sign-in'),
  credits: () => import('./credits/credits'),
  create: () => import('./create/create'),
  generations: () => import('./generations/generations'),
  generation: () => import('./generation/generation'),
  privacy: () => import('./privacy/privacy'),
  export: () => import('./export/export'),
  refund: () => import('./refund/refund'),
  unsubscribe: () => import('./unsubscribe/unsubscribe'),
  adminReview: () => import('./admin/review'),
  adminCampaigns: () => import('./admin/campaigns'),
  notFound: () => import('./not-found/not-found'),
};

function LazyPage({ name, params, query }: { name: Exclude<RouteName, 'landing'>; params: Record<string, string>; query: URLSearchParams }) {
  const [loaded, setLoaded] = useState<{ name: string; page: PageModule['default'] } | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    setFailed(false);
    PAGES[name]().then(
      (module) => live && setLoaded({ name, page: module.default }),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [name]);
  if (failed) return <PageLoadFailed />;
  if (!loaded || loaded.name !== name) return <Loading />;
  const Page = loaded.page;
  return <Page params={params} query={query} />;
}

/** A page's code could not be fetched (offline, or a new deployment replaced it). */
function PageLoadFailed() {
  const { t } = useApp();
  return (
    <div class="note note-error" role="alert">
      <p>{t.app.pageError}</p>
      <button type="button" onClick={() => location.reload()}>
        {t.app.retry}
      </button>
    </div>
  );
}

export function App() {
  const where = useLocation();
  const [locale, setLocaleState] = useState<Locale>(() => chooseLocale(document.cookie, navigator.languages));
  const [me, setMe] = useState<Wallet | null | undefined>(undefined);
  const t = MESSAGES[locale];

  const refreshMe = useCallback(async () => {
    try {
      const wallet = await getMe();
      setMe(wallet);
      return wallet;
    } catch {
      setMe(null);
      return null;
    }
  }, []);

  useEffect(() => {
    void refreshMe();
    return interceptLinks(document.body);
  }, [refreshMe]);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const switchLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    // The API remembers it in the `locale` cookie (and on the wallet when signed in).
    postLocale(next).catch(() => {});
  }, []);

  const state: AppState = useMemo(() => ({ t, locale, me, refreshMe, setMe, switchLocale }), [t, locale, me, refreshMe, switchLocale]);
  const { route } = where;

  const onSignOut = async () => {
    await signOut().catch(() => {});
    setMe(null);
    navigate('/');
  };

  return (
    <AppContext.Provider value={state}>
      <a class="skip" href="#main">
        {t.app.skip}
      </a>
      <header class="site-header">
        <div class="bar">
          <a class="brand" href="/">
            <span class="brand-mark" aria-hidden="true">◕‿◕</span> {t.app.name}
          </a>
          <nav aria-label={t.app.nav}>
            <ul>
              {me ? (
                <>
                  <li><a href="/create" aria-current={route.name === 'create' ? 'page' : undefined}>{t.app.create}</a></li>
                  <li><a href="/generations" aria-current={route.name === 'generations' ? 'page' : undefined}>{t.app.generations}</a></li>
                  <li><a href="/credits" aria-current={route.name === 'credits' ? 'page' : undefined}>{t.app.credits}</a></li>
                  <li><a href="/privacy" aria-current={route.name === 'privacy' ? 'page' : undefined}>{t.app.privacy}</a></li>
                </>
              ) : (
                <>
                  <li><a href="/trial" aria-current={route.name === 'trial' ? 'page' : undefined}>{t.app.tryFree}</a></li>
                  <li><a href="/sign-in" aria-current={route.name === 'signIn' ? 'page' : undefined}>{t.app.signIn}</a></li>
                </>
              )}
            </ul>
          </nav>
          <div class="bar-end">
            <button type="button" class="button-quiet" lang={locale === 'en' ? 'ja' : 'en'} onClick={() => switchLocale(locale === 'en' ? 'ja' : 'en')}>
              <span class="visually-hidden">{t.app.language}: </span>
              {t.app.otherLanguage}
            </button>
            {me && (
              <button type="button" class="button-quiet" onClick={onSignOut}>
                {t.app.signOut}
              </button>
            )}
          </div>
        </div>
      </header>
      <main id="main">
        {route.name === 'landing' ? <Landing /> : <LazyPage name={route.name} params={route.params} query={where.query} />}
      </main>
      <footer class="site-footer">
        <FeedbackWidget path={where.path} />
        <p>
          <a href="/privacy">{t.app.privacy}</a> · <a href="/refund">{t.app.refund}</a> · <a href="/trial">{t.app.tryFree}</a>
        </p>
        <p class="muted">{t.app.footer}</p>
      </footer>
    </AppContext.Provider>
  );
}
