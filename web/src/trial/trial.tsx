import { useState } from 'preact/hooks';
import { getCatalog, startTrial, type LoadedCatalog } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import { putFile } from '../api/upload';
import type { ImageType, Style } from '../api/types';
import { FileField, UploadProgress } from '../components/file-field';
import { Page } from '../components/page';
import { StylePicker } from '../components/style-picker';
import { ErrorNote, Loading, Notice } from '../components/status';
import { Turnstile } from '../components/turnstile';
import { track } from '../lib/analytics';
import { deviceId } from '../lib/device';
import { useLoad } from '../lib/use-load';
import { navigate } from '../router';
import { useApp } from '../state';

export default function Trial() {
  const { t } = useApp();
  const catalog = useLoad(getCatalog);
  return (
    <Page title={t.trial.title}>
      <p class="lead">{t.trial.lead}</p>
      {catalog.loaded.state === 'loading' && <Loading />}
      {catalog.loaded.state === 'error' && <ErrorNote failure={catalog.loaded.failure} onRetry={catalog.reload} />}
      {catalog.loaded.state === 'ok' && <TrialForm catalog={catalog.loaded.data} />}
    </Page>
  );
}

type Started = { link: string; path: string; emailed: boolean };

function TrialForm({ catalog }: { catalog: LoadedCatalog }) {
  const { t } = useApp();
  const [style, setStyle] = useState<Style>(catalog.styles[0] ?? 'anime');
  const [email, setEmail] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const [resetKey, setResetKey] = useState(0);
  const [fraction, setFraction] = useState<number | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [started, setStarted] = useState<Started | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file || !token) return;
    setFailure(null);
    setFraction(0);
    try {
      const trial = await startTrial({
        turnstile_token: token,
        device_id: deviceId(),
        style,
        content_type: file.type as ImageType, // checked by FileField
        content_length: file.size,
        ...(email.trim() ? { email: email.trim() } : {}),
      });
      track('trial_started', { style, page: '/trial' });
      await putFile(trial.upload, file, setFraction);
      const link = new URL(trial.link, location.origin);
      setStarted({ link: trial.link, path: link.pathname + link.search, emailed: trial.link_emailed });
    } catch (error) {
      setFailure(asFailure(error));
      setFraction(null);
      // A Turnstile token works once: a new check for the next attempt.
      setResetKey((k) => k + 1);
    }
  };

  if (started) {
    return (
      <section class="card" aria-labelledby="trial-link">
        <UploadProgress fraction={1} />
        <h2 id="trial-link">{t.trial.linkTitle}</h2>
        <p>{t.trial.linkText}</p>
        <p class="link-box"><a href={started.path}>{started.link}</a></p>
        {started.emailed && <Notice kind="ok">{t.trial.linkEmailed}</Notice>}
        <button type="button" onClick={() => navigate(started.path)}>{t.trial.open}</button>
      </section>
    );
  }

  const busy = fraction !== null;
  return (
    <form class="card form" onSubmit={submit}>
      <StylePicker styles={catalog.styles} value={style} onChange={setStyle} />
      <FileField limits={catalog.upload} onFile={setFile} />
      <label class="field">
        <span class="label">{t.trial.email}</span>
        <input type="email" autocomplete="email" value={email} aria-describedby="trial-email-hint" onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
        <span class="hint" id="trial-email-hint">{t.trial.emailHint}</span>
      </label>
      <Turnstile siteKey={catalog.turnstile.site_key} onToken={setToken} resetKey={resetKey} />
      {failure && (failure.code === 'trial_already_used' ? (
        <div class="note note-error" role="alert">
          <p>{t.errors.trial_already_used}</p>
          <a class="button button-secondary" href="/sign-in">{t.app.signIn}</a>
        </div>
      ) : <ErrorNote failure={failure} />)}
      {busy && <UploadProgress fraction={fraction} />}
      {!token && !busy && <p class="hint">{t.trial.humanNeeded}</p>}
      <button type="submit" disabled={busy || !file || !token}>
        {busy ? t.trial.starting : t.trial.start}
      </button>
    </form>
  );
}
