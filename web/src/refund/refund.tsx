import { useState } from 'preact/hooks';
import { requestRefund } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import { Page } from '../components/page';
import { ErrorNote, Notice } from '../components/status';
import { useApp } from '../state';

export default function Refund() {
  const { t, me } = useApp();
  const [email, setEmail] = useState(me?.email ?? '');
  const [order, setOrder] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [reference, setReference] = useState<string | null>(null);
  // One key per filled-in form: a retry after a lost answer is the same request.
  const [key] = useState(() => crypto.randomUUID());

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const answer = await requestRefund({ email: email.trim(), reason, ...(order.trim() ? { order_id: order.trim() } : {}) }, key);
      setReference(answer.reference);
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={t.refund.title}>
      <p class="lead">{t.refund.lead}</p>
      {reference ? (
        <Notice kind="ok">{t.refund.done(reference)}</Notice>
      ) : (
        <form class="card form" onSubmit={submit}>
          <label class="field">
            <span class="label">{t.refund.email}</span>
            <input type="email" autocomplete="email" required value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <label class="field">
            <span class="label">{t.refund.order}</span>
            <input type="text" value={order} onInput={(e) => setOrder((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <label class="field">
            <span class="label">{t.refund.reason}</span>
            <textarea required maxLength={2000} rows={5} value={reason} onInput={(e) => setReason((e.currentTarget as HTMLTextAreaElement).value)} />
          </label>
          {failure && <ErrorNote failure={failure} />}
          <button type="submit" disabled={busy}>{busy ? t.refund.sending : t.refund.send}</button>
        </form>
      )}
    </Page>
  );
}
