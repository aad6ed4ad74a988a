import { useState } from 'preact/hooks';
import { listCampaigns, startCampaign } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import type { Campaign } from '../api/types';
import { Page } from '../components/page';
import { ErrorNote, Loading, Notice, SignInFirst } from '../components/status';
import { formatDate } from '../i18n';
import { useLoad } from '../lib/use-load';
import { useApp } from '../state';

export default function AdminCampaigns() {
  const { t, me } = useApp();
  if (me === undefined) return <Page title={t.campaigns.title}><Loading /></Page>;
  if (me === null) return <Page title={t.campaigns.title}><SignInFirst /></Page>;
  return (
    <Page title={t.campaigns.title} wide>
      <p class="lead">{t.campaigns.lead}</p>
      <p><a href="/admin/review">{t.admin.title}</a></p>
      <Campaigns />
    </Page>
  );
}

function Campaigns() {
  const { t } = useApp();
  // The form stays mounted while the list reloads, so its "sending" notice survives.
  const [round, setRound] = useState(0);
  const campaigns = useLoad(listCampaigns, [round]);
  const loaded = campaigns.loaded;
  if (loaded.state === 'error' && loaded.failure.code === 'forbidden') {
    return <div class="note note-error" role="alert"><p>{t.admin.forbidden}</p></div>;
  }
  return (
    <>
      <NewCampaign onStarted={() => setRound((r) => r + 1)} />
      <section aria-labelledby="campaign-list">
        <h2 id="campaign-list">{t.campaigns.listTitle}</h2>
        {loaded.state === 'loading' && <Loading />}
        {loaded.state === 'error' && <ErrorNote failure={loaded.failure} onRetry={campaigns.reload} />}
        {loaded.state === 'ok' &&
          (loaded.data.length === 0 ? (
            <p class="empty">{t.campaigns.empty}</p>
          ) : (
            <ul class="campaigns">
              {loaded.data.map((campaign) => (
                <CampaignRow key={campaign.id} campaign={campaign} />
              ))}
            </ul>
          ))}
        <button type="button" class="button-secondary" onClick={campaigns.reload}>{t.campaigns.refresh}</button>
      </section>
    </>
  );
}

function CampaignRow({ campaign }: { campaign: Campaign }) {
  const { t, locale } = useApp();
  return (
    <li class="card">
      <p><strong>{campaign.subject[locale]}</strong></p>
      <p class="muted">
        {campaign.status === 'sent' && campaign.finished_at
          ? t.campaigns.sent(campaign.sent, formatDate(locale, campaign.finished_at))
          : t.campaigns.sending(campaign.sent)}
      </p>
      <p class="muted">{t.campaigns.created(formatDate(locale, campaign.created_at))}</p>
    </li>
  );
}

const EMPTY = { subjectEn: '', subjectJa: '', textEn: '', textJa: '' };

function NewCampaign({ onStarted }: { onStarted: () => void }) {
  const { t } = useApp();
  const [form, setForm] = useState(EMPTY);
  // One id per written campaign: a second click or a retry after a lost answer is the same
  // campaign, never a second one.
  const [id, setId] = useState(() => crypto.randomUUID());
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [started, setStarted] = useState(false);
  const field = (name: keyof typeof EMPTY) => (event: Event) =>
    setForm({ ...form, [name]: (event.currentTarget as HTMLInputElement | HTMLTextAreaElement).value });

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!confirming) {
      setConfirming(true);
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      await startCampaign({ id, subject: { en: form.subjectEn, ja: form.subjectJa }, text: { en: form.textEn, ja: form.textJa } });
      setStarted(true);
      setConfirming(false);
      setForm(EMPTY);
      setId(crypto.randomUUID());
      onStarted();
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form" onSubmit={submit} aria-labelledby="new-campaign">
      <h2 id="new-campaign">{t.campaigns.newTitle}</h2>
      <p class="muted">{t.campaigns.audience}</p>
      <label class="field">
        <span class="label">{t.campaigns.subjectEn}</span>
        <input type="text" required maxLength={150} value={form.subjectEn} onInput={field('subjectEn')} />
      </label>
      <label class="field">
        <span class="label">{t.campaigns.textEn}</span>
        <textarea required maxLength={10000} rows={6} value={form.textEn} onInput={field('textEn')} />
      </label>
      <label class="field">
        <span class="label">{t.campaigns.subjectJa}</span>
        <input type="text" lang="ja" required maxLength={150} value={form.subjectJa} onInput={field('subjectJa')} />
      </label>
      <label class="field">
        <span class="label">{t.campaigns.textJa}</span>
        <textarea lang="ja" required maxLength={10000} rows={6} value={form.textJa} onInput={field('textJa')} />
      </label>
      {started && !confirming && <Notice kind="ok">{t.campaigns.started}</Notice>}
      {confirming && <Notice kind="warn">{t.campaigns.confirm}</Notice>}
      {failure && <ErrorNote failure={failure} />}
      <p class="actions">
        <button type="submit" disabled={busy}>{confirming ? t.campaigns.send : t.campaigns.review}</button>
        {confirming && (
          <button type="button" class="button-secondary" disabled={busy} onClick={() => setConfirming(false)}>
            {t.campaigns.edit}
          </button>
        )}
      </p>
    </form>
  );
}
