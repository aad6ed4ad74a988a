import { useEffect, useState } from 'preact/hooks';
import { deleteGeneration, getGeneration } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import type { Generation } from '../api/types';
import { Deliverables } from '../components/deliverables';
import { StatusBadge, StatusReason } from '../components/generation-status';
import { Page } from '../components/page';
import { ErrorNote, Loading, SignInFirst } from '../components/status';
import { formatDate } from '../i18n';
import { isFinal } from '../lib/generations';
import { poll } from '../lib/poll';
import { navigate } from '../router';
import { useApp } from '../state';

export default function GenerationPage({ params }: { params: Record<string, string> }) {
  const { t, me } = useApp();
  if (me === undefined) return <Page title={t.generation.title}><Loading /></Page>;
  if (me === null) return <Page title={t.generation.title}><SignInFirst /></Page>;
  return (
    <Page title={t.generation.title} wide>
      <Detail id={params.id ?? ''} />
    </Page>
  );
}

function Detail({ id }: { id: string }) {
  const { t, locale } = useApp();
  const [generation, setGeneration] = useState<Generation | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [round, setRound] = useState(0);
  const [asking, setAsking] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteFailure, setDeleteFailure] = useState<ApiFailure | null>(null);

  useEffect(
    () =>
      poll({
        load: () => getGeneration(id),
        done: (found) => isFinal(found.status),
        onValue: (found) => {
          setGeneration(found);
          setFailure(null);
        },
        onError: (error) => setFailure(asFailure(error)),
        fatal: (error) => ['generation_not_found', 'unauthorized'].includes(asFailure(error).code),
      }),
    [id, round],
  );

  if (!generation) {
    if (!failure) return <Loading />;
    return (
      <>
        <ErrorNote failure={failure} onRetry={failure.code === 'generation_not_found' ? undefined : () => setRound(round + 1)} />
        <p><a href="/generations">{t.generation.backToList}</a></p>
      </>
    );
  }

  const remove = async () => {
    setDeleting(true);
    setDeleteFailure(null);
    try {
      await deleteGeneration(generation.id);
      navigate('/generations');
    } catch (error) {
      setDeleteFailure(asFailure(error));
      setDeleting(false);
    }
  };

  return (
    <>
      <p class="meta">
        <StatusBadge generation={generation} /> {t.styles[generation.style] ?? generation.style} ·{' '}
        {generation.products.map((p) => t.products[p] ?? p).join(', ')} · {formatDate(locale, generation.created_at)}
      </p>
      <StatusReason generation={generation} />
      {!isFinal(generation.status) && <p class="hint">{t.generation.working}</p>}
      {generation.status === 'ready' && <Deliverables generation={generation} />}
      {failure && <ErrorNote failure={failure} />}

      {isFinal(generation.status) && (
        <section class="danger-zone" aria-labelledby="delete">
          <h2 id="delete" class="visually-hidden">{t.generation.delete}</h2>
          {asking ? (
            <div class="note note-warn" role="alertdialog" aria-labelledby="delete-question">
              <p id="delete-question">{t.generation.deleteQuestion}</p>
              <p class="actions">
                <button type="button" class="button-danger" disabled={deleting} onClick={() => void remove()}>
                  {t.generation.deleteConfirm}
                </button>
                <button type="button" class="button-secondary" onClick={() => setAsking(false)}>
                  {t.generation.cancel}
                </button>
              </p>
            </div>
          ) : (
            <button type="button" class="button-secondary" onClick={() => setAsking(true)}>
              {t.generation.delete}
            </button>
          )}
          {deleteFailure && <ErrorNote failure={deleteFailure} />}
        </section>
      )}
      <p><a href="/generations">{t.generation.backToList}</a></p>
    </>
  );
}
