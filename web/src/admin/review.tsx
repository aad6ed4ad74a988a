import { useState } from 'preact/hooks';
import { approveReview, confirmReview, reviewQueue } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import type { ReviewItem } from '../api/types';
import { Page } from '../components/page';
import { ErrorNote, Loading, Notice, SignInFirst } from '../components/status';
import { formatDate } from '../i18n';
import { useLoad } from '../lib/use-load';
import { useApp } from '../state';

export default function AdminReview() {
  const { t, me } = useApp();
  if (me === undefined) return <Page title={t.admin.title}><Loading /></Page>;
  if (me === null) return <Page title={t.admin.title}><SignInFirst /></Page>;
  return (
    <Page title={t.admin.title} wide>
      <p class="lead">{t.admin.lead}</p>
      <p><a href="/admin/campaigns">{t.campaigns.title}</a></p>
      <Queue />
    </Page>
  );
}

function Queue() {
  const { t } = useApp();
  const queue = useLoad(reviewQueue);
  if (queue.loaded.state === 'loading') return <Loading />;
  if (queue.loaded.state === 'error') {
    if (queue.loaded.failure.code === 'forbidden') return <div class="note note-error" role="alert"><p>{t.admin.forbidden}</p></div>;
    return <ErrorNote failure={queue.loaded.failure} onRetry={queue.reload} />;
  }
  if (queue.loaded.data.length === 0) return <p class="empty">{t.admin.empty}</p>;
  return (
    <ul class="review-queue">
      {queue.loaded.data.map((item) => (
        <Item key={item.generation_id} item={item} />
      ))}
    </ul>
  );
}

function Item({ item }: { item: ReviewItem }) {
  const { t, locale } = useApp();
  const [done, setDone] = useState<'approved' | 'confirmed' | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const act = async (action: 'approved' | 'confirmed') => {
    setBusy(true);
    setFailure(null);
    try {
      await (action === 'approved' ? approveReview(item.generation_id) : confirmReview(item.generation_id));
      setDone(action);
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setBusy(false);
    }
  };
  const short = item.generation_id.slice(0, 8);
  return (
    <li class="card review-item">
      <img src={item.photo_url} alt={t.admin.photo(short)} width={240} height={240} />
      <div>
        <p><strong>{short}</strong></p>
        <p class="muted">{t.admin.deadline(formatDate(locale, item.deleted_by))}</p>
        {done ? (
          <Notice kind="ok">{done === 'approved' ? t.admin.approved : t.admin.confirmed}</Notice>
        ) : (
          <p class="actions">
            <button type="button" disabled={busy} onClick={() => void act('approved')}>{t.admin.approve}</button>
            <button type="button" class="button-danger" disabled={busy} onClick={() => void act('confirmed')}>{t.admin.confirm}</button>
          </p>
        )}
        {failure && <ErrorNote failure={failure} />}
      </div>
    </li>
  );
}
