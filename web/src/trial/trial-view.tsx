import { useEffect, useState } from 'preact/hooks';
import { getTrial } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import type { Generation } from '../api/types';
import { Deliverables } from '../components/deliverables';
import { StatusBadge, StatusReason } from '../components/generation-status';
import { Page } from '../components/page';
import { ErrorNote, Loading } from '../components/status';
import { isFinal } from '../lib/generations';
import { poll } from '../lib/poll';
import { useApp } from '../state';

/** The page the emailed trial link opens: polls until the avatar is ready. */
export default function TrialView({ params, query }: { params: Record<string, string>; query: URLSearchParams }) {
  const { t } = useApp();
  const token = query.get('token');
  const id = params.id ?? '';
  const [generation, setGeneration] = useState<Generation | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  useEffect(() => {
    if (!token) return;
    return poll({
      load: () => getTrial(id, token),
      done: (found) => isFinal(found.status),
      onValue: (found) => {
        setGeneration(found);
        setFailure(null);
      },
      onError: (error) => setFailure(asFailure(error)),
      fatal: (error) => asFailure(error).code === 'trial_not_found',
    });
  }, [id, token]);

  return (
    <Page title={t.trialView.title} wide>
      {!token && <div class="note note-error" role="alert"><p>{t.trialView.missing}</p></div>}
      {token && !generation && !failure && <Loading />}
      {failure && (!generation || failure.code === 'trial_not_found') && <ErrorNote failure={failure} />}
      {generation && (
        <>
          <p class="meta"><StatusBadge generation={generation} /></p>
          <StatusReason generation={generation} />
          {!isFinal(generation.status) && <p class="hint">{t.generation.working}</p>}
          {generation.status === 'ready' && <Deliverables generation={generation} />}
          <p class="note note-info">
            {t.trialView.tryCreate} <a href="/sign-in?next=%2Fcreate">{t.app.signIn}</a>
          </p>
        </>
      )}
    </Page>
  );
}
