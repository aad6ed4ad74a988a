import { useEffect, useState } from 'preact/hooks';
import type { ApiFailure } from '../api/errors';
import { describeFailure } from '../i18n';
import { useApp } from '../state';

export function Loading() {
  const { t } = useApp();
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {t.app.loading}
    </p>
  );
}

/** An error in words, with a live countdown when the server asked us to wait. */
export function ErrorNote({ failure, onRetry }: { failure: ApiFailure; onRetry?: () => void }) {
  const { t } = useApp();
  const [left, setLeft] = useState(failure.retryAfter ?? 0);
  useEffect(() => {
    setLeft(failure.retryAfter ?? 0);
    if (!failure.retryAfter) return;
    const timer = setInterval(() => setLeft((s) => Math.max(0, s - 1)), 1000);
    return () => clearInterval(timer);
  }, [failure]);
  const words = left > 0 ? describeFailure(t, { code: failure.code, retryAfter: left }) : t.errors[failure.code];
  return (
    <div class="note note-error" role="alert">
      <p>{words}</p>
      {onRetry && (
        <button type="button" class="button-secondary" onClick={onRetry} disabled={left > 0}>
          {t.app.retry}
        </button>
      )}
    </div>
  );
}

export function Notice({ children, kind = 'info' }: { children: preact.ComponentChildren; kind?: 'info' | 'ok' | 'warn' }) {
  return (
    <div class={`note note-${kind}`} role="status">
      {children}
    </div>
  );
}

/** For pages that need a session: a sign-in link (back to this page afterwards). */
export function SignInFirst() {
  const { t } = useApp();
  const next = encodeURIComponent(location.pathname + location.search);
  return (
    <div class="note note-info">
      <p>{t.app.signInNeeded}</p>
      <a class="button" href={`/sign-in?next=${next}`}>
        {t.app.signInNow}
      </a>
    </div>
  );
}
