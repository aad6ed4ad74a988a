import { useEffect, useRef } from 'preact/hooks';
import { getCatalog } from '../api/client';
import { Page } from '../components/page';
import { ErrorNote, Loading } from '../components/status';
import { formatPrice } from '../i18n';
import { track } from '../lib/analytics';
import { useLoad } from '../lib/use-load';
import { useApp } from '../state';

const SAMPLE_STYLES = ['anime', 'chibi', 'watercolor'];

export function Landing() {
  const { t, locale, me } = useApp();
  const catalog = useLoad(getCatalog);
  const pricing = useRef<HTMLElement>(null);

  // "pricing viewed": once, when the prices are actually on screen.
  useEffect(() => {
    const section = pricing.current;
    if (!section || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        track('pricing_viewed', { page: '/' });
        observer.disconnect();
      }
    });
    observer.observe(section);
    return () => observer.disconnect();
  }, []);

  return (
    <Page title={t.landing.title} wide>
      <section class="hero">
        <p class="lead">{t.landing.lead}</p>
        <p class="actions">
          <a class="button" href="/trial">{t.landing.tryFree}</a>
          <a class="button button-secondary" href={me ? '/create' : '/sign-in?next=%2Fcreate'}>{t.landing.create}</a>
        </p>
      </section>

      <section aria-labelledby="how">
        <h2 id="how">{t.landing.howTitle}</h2>
        <ol class="steps">
          {t.landing.steps.map((step) => (
            <li key={step}>{step}</li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="styles">
        <h2 id="styles">{t.landing.stylesTitle}</h2>
        <ul class="samples">
          {SAMPLE_STYLES.map((style) => (
            <li key={style} class="card sample">
              <img src={`/samples/${style}.webp`} alt={t.landing.sampleAlt(t.styles[style] ?? style)} width={320} height={320} loading="lazy" decoding="async" />
              <h3>{t.styles[style]}</h3>
              <p>{t.styleText[style]}</p>
            </li>
          ))}
        </ul>
        <p class="hint">{t.landing.sampleNote}</p>
      </section>

      <section aria-labelledby="pricing" ref={pricing}>
        <h2 id="pricing">{t.landing.pricingTitle}</h2>
        <p>{t.landing.pricingLead}</p>
        {catalog.loaded.state === 'loading' && <Loading />}
        {catalog.loaded.state === 'error' && <ErrorNote failure={catalog.loaded.failure} onRetry={catalog.reload} />}
        {catalog.loaded.state === 'ok' && (
          <>
            <p class="muted">{t.landing.costs(catalog.loaded.data.costs.avatar, catalog.loaded.data.costs.stickers, catalog.loaded.data.costs.speech_bubble)}</p>
            {catalog.loaded.data.packs.length === 0 ? (
              <p class="note note-info">{t.landing.noPacks}</p>
            ) : (
              <ul class="packs">
                {catalog.loaded.data.packs.map((pack) => (
                  <li key={pack.product} class="card pack">
                    <span class="pack-credits">{t.landing.pack(pack.credits)}</span>
                    <span class="pack-price">{pack.price ? formatPrice(locale, pack.price.amount, pack.price.currency) : t.landing.priceUnknown}</span>
                  </li>
                ))}
              </ul>
            )}
            <p>
              <a class="button button-secondary" href={me ? '/credits' : '/sign-in?next=%2Fcredits'}>{t.landing.buy}</a>
            </p>
          </>
        )}
      </section>

      <section aria-labelledby="privacy-promise" class="card promise">
        <h2 id="privacy-promise">{t.landing.privacyTitle}</h2>
        <p>{t.landing.privacyText}</p>
        <a href="/privacy">{t.landing.privacyLink}</a>
      </section>
    </Page>
  );
}
