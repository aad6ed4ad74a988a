import { useState } from 'preact/hooks';
import {
  getPrivacy,
  requestDeletion,
  requestExport,
  setConsent,
  setRestriction,
  signOut,
  signOutEverywhere,
  startEmailChange,
  verifyEmailChange,
} from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import type { Privacy } from '../api/types';
import { Page } from '../components/page';
import { ErrorNote, Loading, Notice, SignInFirst } from '../components/status';
import { formatDate } from '../i18n';
import { useLoad } from '../lib/use-load';
import { useApp } from '../state';

export default function PrivacyCentre() {
  const { t, me } = useApp();
  const [ended, setEnded] = useState<'deleted' | 'signedOut' | 'signedOutEverywhere' | null>(null);
  if (ended) {
    return (
      <Page title={t.privacy.title}>
        <Notice kind="ok">{t.privacy[ended]}</Notice>
        <p><a href="/">{t.app.home}</a></p>
      </Page>
    );
  }
  if (me === undefined) return <Page title={t.privacy.title}><Loading /></Page>;
  if (me === null) return <Page title={t.privacy.title}><p class="lead">{t.privacy.lead}</p><SignInFirst /></Page>;
  return (
    <Page title={t.privacy.title}>
      <p class="lead">{t.privacy.lead}</p>
      <Choices />
      <Export />
      <EmailChange email={me.email} />
      <SignOutEverywhere onDone={() => setEnded('signedOutEverywhere')} />
      <DeleteAccount onDone={() => setEnded('deleted')} />
      <SignOut onDone={() => setEnded('signedOut')} />
    </Page>
  );
}

/** One choice: its state in words, since when, and the button that flips it. */
function Choice(props: { id: string; title: string; text: string; on: boolean; at: string | null; onWords: string; offWords: string; turnOn: string; turnOff: string; change: (on: boolean) => Promise<void> }) {
  const { t, locale } = useApp();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const flip = async () => {
    setBusy(true);
    setFailure(null);
    try {
      await props.change(!props.on);
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card choice" aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      <p>{props.text}</p>
      <p class="state" role="status">
        <strong>{props.on ? props.onWords : props.offWords}</strong>
        {props.at && <span class="muted"> ({t.privacy.since(formatDate(locale, props.at))})</span>}
      </p>
      <button type="button" class="button-secondary" disabled={busy} onClick={() => void flip()}>
        {props.on ? props.turnOff : props.turnOn}
      </button>
      {failure && <ErrorNote failure={failure} />}
    </section>
  );
}

function Choices() {
  const { t } = useApp();
  const privacy = useLoad(getPrivacy);
  if (privacy.loaded.state === 'loading') return <Loading />;
  if (privacy.loaded.state === 'error') return <ErrorNote failure={privacy.loaded.failure} onRetry={privacy.reload} />;
  const view: Privacy = privacy.loaded.data;
  const update = (next: Promise<Privacy>) => next.then(privacy.set);
  return (
    <>
      <Choice
        id="restriction"
        title={t.privacy.restriction}
        text={t.privacy.restrictionText}
        on={view.restricted}
        at={view.restricted ? view.restricted_at : null}
        onWords={t.privacy.restrictedNow}
        offWords={t.privacy.notRestricted}
        turnOn={t.privacy.restrict}
        turnOff={t.privacy.unrestrict}
        change={(on) => update(setRestriction(on))}
      />
      <Choice
        id="analytics"
        title={t.privacy.analytics}
        text={t.privacy.analyticsText}
        on={!view.analytics_objected}
        at={view.analytics_objected ? view.analytics_objected_at : null}
        onWords={t.privacy.analyticsOn}
        offWords={t.privacy.analyticsOff}
        turnOn={t.privacy.allowAnalytics}
        turnOff={t.privacy.objectAnalytics}
        change={(on) => update(setConsent({ analytics: on }))}
      />
      <Choice
        id="marketing"
        title={t.privacy.marketing}
        text={t.privacy.marketingText}
        on={view.marketing_opt_in}
        at={view.marketing_opt_in ? view.marketing_opt_in_at : view.marketing_opt_out_at}
        onWords={t.privacy.marketingOn}
        offWords={t.privacy.marketingOff}
        turnOn={t.privacy.optIn}
        turnOff={t.privacy.optOut}
        change={(on) => update(setConsent({ marketing: on }))}
      />
    </>
  );
}

function Export() {
  const { t } = useApp();
  const [state, setState] = useState<'idle' | 'busy' | 'done'>('idle');
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const ask = async () => {
    setState('busy');
    setFailure(null);
    try {
      await requestExport();
      setState('done');
    } catch (error) {
      setFailure(asFailure(error));
      setState('idle');
    }
  };
  return (
    <section class="card" aria-labelledby="export">
      <h2 id="export">{t.privacy.export}</h2>
      <p>{t.privacy.exportText}</p>
      {state === 'done' ? (
        <Notice kind="ok">{t.privacy.exportRequested}</Notice>
      ) : (
        <button type="button" class="button-secondary" disabled={state === 'busy'} onClick={() => void ask()}>
          {t.privacy.requestExport}
        </button>
      )}
      {failure && <ErrorNote failure={failure} />}
    </section>
  );
}

function EmailChange({ email }: { email: string }) {
  const { t, refreshMe } = useApp();
  const [step, setStep] = useState<'email' | 'code' | 'done'>('email');
  const [next, setNext] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [changed, setChanged] = useState('');

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setFailure(null);
    try {
      await action();
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="email-change">
      <h2 id="email-change">{t.privacy.email}</h2>
      <p>{t.privacy.currentEmail(email)}</p>
      {step === 'done' && <Notice kind="ok">{t.privacy.changed(changed)} {t.privacy.changedSessions}</Notice>}
      {step === 'email' && (
        <form class="form" onSubmit={(e) => { e.preventDefault(); void run(async () => { await startEmailChange(next.trim()); setStep('code'); }); }}>
          <label class="field">
            <span class="label">{t.privacy.newEmail}</span>
            <input type="email" autocomplete="email" required value={next} onInput={(e) => setNext((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="button-secondary" disabled={busy}>{t.privacy.sendCode}</button>
        </form>
      )}
      {step === 'code' && (
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const answer = await verifyEmailChange(next.trim(), code);
              setChanged(answer.email);
              setStep('done');
              setCode('');
              setNext('');
              await refreshMe();
            });
          }}
        >
          <Notice>{t.privacy.codeSent(next.trim())}</Notice>
          <label class="field">
            <span class="label">{t.privacy.code}</span>
            <input class="code-input" autocomplete="one-time-code" inputMode="numeric" maxLength={6} required value={code} onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value.replace(/\D/g, '').slice(0, 6))} />
          </label>
          <button type="submit" class="button-secondary" disabled={busy || code.length !== 6}>{t.privacy.confirmChange}</button>
        </form>
      )}
      {failure && <ErrorNote failure={failure} />}
    </section>
  );
}

/** Ends every session of the account on the server, this browser's included. */
function SignOutEverywhere({ onDone }: { onDone: () => void }) {
  const { t, setMe } = useApp();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const end = async () => {
    setBusy(true);
    setFailure(null);
    try {
      await signOutEverywhere();
      setMe(null);
      onDone();
    } catch (error) {
      setFailure(asFailure(error));
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="sign-out-everywhere">
      <h2 id="sign-out-everywhere">{t.privacy.everywhereTitle}</h2>
      <p>{t.privacy.everywhereText}</p>
      <button type="button" class="button-secondary" disabled={busy} onClick={() => void end()}>
        {t.privacy.everywhereButton}
      </button>
      {failure && <ErrorNote failure={failure} />}
    </section>
  );
}

function DeleteAccount({ onDone }: { onDone: () => void }) {
  const { t, setMe } = useApp();
  const [sure, setSure] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const erase = async () => {
    setBusy(true);
    setFailure(null);
    try {
      await requestDeletion();
      // The erasure runs within the hour; this browser's session ends now.
      await signOut().catch(() => {});
      setMe(null);
      onDone();
    } catch (error) {
      setFailure(asFailure(error));
      setBusy(false);
    }
  };
  return (
    <section class="card danger-zone" aria-labelledby="delete-account">
      <h2 id="delete-account">{t.privacy.deleteTitle}</h2>
      <p>{t.privacy.deleteText}</p>
      <label class="check">
        <input type="checkbox" checked={sure} onChange={(e) => setSure((e.currentTarget as HTMLInputElement).checked)} />
        {t.privacy.deleteUnderstand}
      </label>
      <button type="button" class="button-danger" disabled={!sure || busy} onClick={() => void erase()}>
        {t.privacy.deleteButton}
      </button>
      {failure && <ErrorNote failure={failure} />}
    </section>
  );
}

function SignOut({ onDone }: { onDone: () => void }) {
  const { t, setMe } = useApp();
  return (
    <p>
      <button
        type="button"
        class="button-secondary"
        onClick={async () => {
          await signOut().catch(() => {});
          setMe(null);
          onDone();
        }}
      >
        {t.privacy.signOut}
      </button>
    </p>
  );
}
