import { useState } from 'preact/hooks';
import { startSignIn, verifyCode } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import { Page } from '../components/page';
import { ErrorNote, Notice } from '../components/status';
import { track } from '../lib/analytics';
import { safeNext } from '../lib/next';
import { useCountdown } from '../lib/use-countdown';
import { navigate } from '../router';
import { useApp } from '../state';

/** The server lets a new code go out once a minute (OTP_RESEND_INTERVAL_SECONDS). */
const RESEND_SECONDS = 60;

export default function SignIn({ query }: { query: URLSearchParams }) {
  const { t, locale, setMe } = useApp();
  const [step, setStep] = useState<'email' | 'code'>('email');
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [resent, setResent] = useState(false);
  const [cooldown, startCooldown] = useCountdown();

  const send = async (again: boolean) => {
    setBusy(true);
    setFailure(null);
    setResent(false);
    try {
      await startSignIn(email.trim(), locale);
      setStep('code');
      setResent(again);
      startCooldown(RESEND_SECONDS);
    } catch (error) {
      const failed = asFailure(error);
      setFailure(failed);
      if (failed.retryAfter) startCooldown(failed.retryAfter);
    } finally {
      setBusy(false);
    }
  };

  const verify = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const wallet = await verifyCode(email.trim(), code);
      setMe(wallet);
      track('signed_in', { page: '/sign-in' });
      navigate(safeNext(query.get('next')), { replace: true });
    } catch (error) {
      setFailure(asFailure(error));
      setBusy(false);
    }
  };

  return (
    <Page title={t.signIn.title}>
      <p class="lead">{t.signIn.lead}</p>
      {step === 'email' ? (
        <form class="card form" onSubmit={(event) => { event.preventDefault(); void send(false); }}>
          <label class="field">
            <span class="label">{t.signIn.email}</span>
            <input type="email" name="email" autocomplete="email" required value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
          </label>
          {failure && <ErrorNote failure={failure} />}
          <button type="submit" disabled={busy || cooldown > 0}>
            {busy ? t.signIn.sending : t.signIn.send}
          </button>
        </form>
      ) : (
        <form class="card form" onSubmit={verify}>
          <Notice>{t.signIn.sentTo(email.trim())}</Notice>
          <label class="field">
            <span class="label">{t.signIn.code}</span>
            <input
              class="code-input"
              name="code"
              autocomplete="one-time-code"
              inputMode="numeric"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              value={code}
              onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value.replace(/\D/g, '').slice(0, 6))}
              onPaste={(e) => {
                // "Your code is 123 456": keep the digits.
                const text = e.clipboardData?.getData('text') ?? '';
                const digits = text.replace(/\D/g, '').slice(0, 6);
                if (digits) {
                  e.preventDefault();
                  setCode(digits);
                }
              }}
            />
          </label>
          {failure && <ErrorNote failure={failure} />}
          {resent && !failure && <Notice kind="ok">{t.signIn.resent}</Notice>}
          <button type="submit" disabled={busy || code.length !== 6}>
            {busy ? t.signIn.verifying : t.signIn.verify}
          </button>
          <p class="actions">
            <button type="button" class="button-secondary" disabled={busy || cooldown > 0} onClick={() => void send(true)}>
              {cooldown > 0 ? t.signIn.resendIn(cooldown) : t.signIn.resend}
            </button>
            <button type="button" class="button-quiet" onClick={() => { setStep('email'); setCode(''); setFailure(null); }}>
              {t.signIn.otherEmail}
            </button>
          </p>
        </form>
      )}
    </Page>
  );
}
