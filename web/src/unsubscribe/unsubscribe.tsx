import { useState } from 'preact/hooks';
import { unsubscribe } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import { Page } from '../components/page';
import { ErrorNote, Notice } from '../components/status';
import { useApp } from '../state';

/** The marketing email's link: nothing changes until the button is pressed (link scanners
 * open links), and then the same one-click POST as RFC 8058's. */
export default function Unsubscribe({ query }: { query: URLSearchParams }) {
  const { t } = useApp();
  const token = query.get('token');
  const [state, setState] = useState<'idle' | 'busy' | 'done'>('idle');
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const submit = async () => {
    if (!token) return;
    setState('busy');
    setFailure(null);
    try {
      await unsubscribe(token);
      setState('done');
    } catch (error) {
      setFailure(asFailure(error));
      setState('idle');
    }
  };
  return (
    <Page title={t.unsubscribe.title}>
      {!token ? (
        <div class="note note-error" role="alert"><p>{t.unsubscribe.missing}</p></div>
      ) : state === 'done' ? (
        <Notice kind="ok">{t.unsubscribe.done}</Notice>
      ) : (
        <div class="card">
          <p>{t.unsubscribe.text}</p>
          <button type="button" disabled={state === 'busy'} onClick={() => void submit()}>{t.unsubscribe.button}</button>
          {failure && <ErrorNote failure={failure} />}
        </div>
      )}
    </Page>
  );
}
