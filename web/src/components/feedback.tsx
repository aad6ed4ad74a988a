import { useState } from 'preact/hooks';
import { sendFeedback } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import { useApp } from '../state';
import { ErrorNote } from './status';

/** On every page: a short message (and an email if you want an answer), sent with the path. */
export function FeedbackWidget({ path }: { path: string }) {
  const { t } = useApp();
  const [open, setOpen] = useState(false);
  const [message, setMessage] = useState('');
  const [email, setEmail] = useState('');
  const [state, setState] = useState<'idle' | 'sending' | 'sent'>('idle');
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setState('sending');
    setFailure(null);
    try {
      await sendFeedback({ message, page: path, ...(email.trim() ? { email: email.trim() } : {}) });
      setState('sent');
      setMessage('');
    } catch (error) {
      setFailure(asFailure(error));
      setState('idle');
    }
  };

  return (
    <aside class="feedback" aria-label={t.feedback.title}>
      <button type="button" class="button-secondary" aria-expanded={open} onClick={() => { setOpen(!open); setState('idle'); }}>
        {open ? t.feedback.close : t.feedback.open}
      </button>
      {open && (
        <form class="card feedback-form" onSubmit={submit}>
          <h2>{t.feedback.title}</h2>
          {state === 'sent' ? (
            <p role="status" class="note note-ok">{t.feedback.thanks}</p>
          ) : (
            <>
              <label class="field">
                <span class="label">{t.feedback.message}</span>
                <textarea required maxLength={2000} rows={3} value={message} onInput={(e) => setMessage((e.currentTarget as HTMLTextAreaElement).value)} />
              </label>
              <label class="field">
                <span class="label">{t.feedback.email}</span>
                <input type="email" autocomplete="email" value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
              </label>
              {failure && <ErrorNote failure={failure} />}
              <button type="submit" disabled={state === 'sending'}>
                {state === 'sending' ? t.feedback.sending : t.feedback.send}
              </button>
            </>
          )}
        </form>
      )}
    </aside>
  );
}
