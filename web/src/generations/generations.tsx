import { useEffect, useState } from 'preact/hooks';
import { listGenerations } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import type { Generation } from '../api/types';
import { StatusBadge, StatusReason } from '../components/generation-status';
import { Page } from '../components/page';
import { ErrorNote, Loading, SignInFirst } from '../components/status';
import { formatDate } from '../i18n';
import { allFinal } from '../lib/generations';
import { poll } from '../lib/poll';
import { useApp } from '../state';

export default function Generations() {
  const { t, me } = useApp();
  if (me === undefined) return <Page title={t.generations.title}><Loading /></Page>;
  if (me === null) return <Page title={t.generations.title}><SignInFirst /></Page>;
  return (
    <Page title={t.generations.title} wide>
      <Gallery />
    </Page>
  );
}

function Gallery() {
  const { t, locale } = useApp();
  const [list, setList] = useState<Generation[] | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [round, setRound] = useState(0);

  // Each job's status updates until every one is final; then polling stops.
  useEffect(
    () =>
      poll({
        load: listGenerations,
        done: allFinal,
        onValue: (generations) => {
          setList(generations);
          setFailure(null);
        },
        onError: (error) => setFailure(asFailure(error)),
        fatal: (error) => asFailure(error).code === 'unauthorized',
      }),
    [round],
  );

  if (list === null) return failure ? <ErrorNote failure={failure} onRetry={() => setRound(round + 1)} /> : <Loading />;
  if (list.length === 0) {
    return (
      <div class="empty">
        <p>{t.generations.empty}</p>
        <a class="button" href="/create">{t.generations.createFirst}</a>
      </div>
    );
  }
  return (
    <>
      {failure && <ErrorNote failure={failure} />}
      <ul class="gallery">
        {list.map((generation) => (
          <li key={generation.id} class="card tile">
            <a class="tile-link" href={`/generations/${generation.id}`}>
              {generation.downloads['avatar.png'] ? (
                <img src={generation.downloads['avatar.png']} alt={t.generation.imageAlt(t.products.avatar ?? 'avatar')} width={240} height={240} loading="lazy" />
              ) : (
                <span class="tile-placeholder" aria-hidden="true">◕‿◕</span>
              )}
              <span class="tile-title">
                {t.styles[generation.style] ?? generation.style} · {generation.products.map((p) => t.products[p] ?? p).join(', ')}
              </span>
            </a>
            <StatusBadge generation={generation} />
            <StatusReason generation={generation} />
            <p class="muted small">{t.generations.made(formatDate(locale, generation.created_at))}</p>
          </li>
        ))}
      </ul>
    </>
  );
}
