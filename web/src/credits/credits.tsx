import { useEffect, useState } from 'preact/hooks';
import { getCatalog, getMe, startCheckout } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import { Page } from '../components/page';
import { ErrorNote, Loading, Notice, SignInFirst } from '../components/status';
import { formatPrice } from '../i18n';
import { track } from '../lib/analytics';
import { poll } from '../lib/poll';
import { useLoad } from '../lib/use-load';
import { useApp } from '../state';

/** How long the page waits for the payment's webhook before saying it is slow. */
const CONFIRMATION_WAIT_MS = 30_000;

export default function Credits({ query }: { query: URLSearchParams }) {
  const { t, locale, me, setMe } = useApp();
  const catalog = useLoad(getCatalog);
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const returning = query.has('checkout_id');
  const [confirmation, setConfirmation] = useState<'waiting' | 'confirmed' | 'slow'>('waiting');

  useEffect(() => {
    track('pricing_viewed', { page: '/credits' });
  }, []);

  // Back from the checkout: the credits arrive with the payment provider's webhook, which may
  // land a little after the person. Poll the balance until it changes.
  useEffect(() => {
    if (!returning || me === undefined || me === null) return;
    const before = me.credits;
    return poll({
      load: getMe,
      done: (wallet) => wallet === null || wallet.credits !== before,
      onValue: (wallet) => {
        if (wallet && wallet.credits !== before) {
          setMe(wallet);
          setConfirmation('confirmed');
        }
      },
      timeoutMs: CONFIRMATION_WAIT_MS,
      onTimeout: () => setConfirmation('slow'),
    });
    // Only once per arrival: `me` changes when the balance does.
  }, [returning, me === undefined || me === null]);

  if (me === undefined) return <Page title={t.credits.title}><Loading /></Page>;
  if (me === null) return <Page title={t.credits.title}><SignInFirst /></Page>;

  const buy = async (product: string) => {
    setBusy(product);
    setFailure(null);
    track('checkout_started', { product });
    try {
      const checkout = await startCheckout(product);
      location.assign(checkout.checkout_url);
    } catch (error) {
      setFailure(asFailure(error));
      setBusy(null);
    }
  };

  return (
    <Page title={t.credits.title}>
      <section class="card balance" aria-labelledby="balance">
        <h2 id="balance">{t.credits.balance}</h2>
        <p class="balance-figure" aria-live="polite">{t.app.credits_n(me.credits)}</p>
      </section>

      {returning && confirmation === 'waiting' && (
        <div class="note note-info" role="status">
          <p><strong>{t.credits.waitingTitle}</strong></p>
          <p><span class="spinner" aria-hidden="true" /> {t.credits.waitingText}</p>
        </div>
      )}
      {returning && confirmation === 'confirmed' && <Notice kind="ok">{t.credits.confirmed(me.credits)}</Notice>}
      {returning && confirmation === 'slow' && <Notice kind="warn">{t.credits.slow}</Notice>}

      <section aria-labelledby="packs">
        <h2 id="packs">{t.credits.packs}</h2>
        {catalog.loaded.state === 'loading' && <Loading />}
        {catalog.loaded.state === 'error' && <ErrorNote failure={catalog.loaded.failure} onRetry={catalog.reload} />}
        {catalog.loaded.state === 'ok' &&
          (catalog.loaded.data.packs.length === 0 ? (
            <Notice>{t.credits.noPacks}</Notice>
          ) : (
            <ul class="packs">
              {catalog.loaded.data.packs.map((pack) => (
                <li key={pack.product} class="card pack">
                  <span class="pack-credits">{t.landing.pack(pack.credits)}</span>
                  <span class="pack-price">{pack.price ? formatPrice(locale, pack.price.amount, pack.price.currency) : t.landing.priceUnknown}</span>
                  <button type="button" disabled={busy !== null} onClick={() => void buy(pack.product)}>
                    {busy === pack.product ? t.credits.redirecting : t.credits.buy(pack.credits)}
                  </button>
                </li>
              ))}
            </ul>
          ))}
        {failure && <ErrorNote failure={failure} />}
      </section>
    </Page>
  );
}
