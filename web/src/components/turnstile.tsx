import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useApp } from '../state';

/** Cloudflare's documented dummy token, which the local siteverify stand-in accepts as
 * Cloudflare's test secrets do. */
export const DUMMY_TOKEN = 'XXXX.DUMMY.TOKEN.XXXX';
const SCRIPT = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit';

interface TurnstileApi {
  render: (element: HTMLElement, options: Record<string, unknown>) => string;
  remove: (id: string) => void;
}
declare global {
  interface Window {
    turnstile?: TurnstileApi;
  }
}

let loading: Promise<TurnstileApi> | null = null;
function loadScript(): Promise<TurnstileApi> {
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = SCRIPT;
    script.async = true;
    script.onload = () => (window.turnstile ? resolve(window.turnstile) : reject(new Error('no turnstile')));
    script.onerror = () => {
      loading = null;
      reject(new Error('turnstile script failed'));
    };
    document.head.appendChild(script);
  });
  return loading;
}

/** The human check of the free trial: Cloudflare's widget when a site key is configured (the
 * only third-party script the app ever loads), else a visibly labelled local stand-in. */
export function Turnstile({ siteKey, onToken, resetKey }: { siteKey: string | null; onToken: (token: string | null) => void; resetKey: number }) {
  const { t, locale } = useApp();
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');
  const [checked, setChecked] = useState(false);
  const id = useId();

  useEffect(() => {
    setChecked(false);
    onToken(null);
    if (!siteKey || !box.current) return;
    let widget: string | null = null;
    let live = true;
    loadScript().then(
      (api) => {
        if (!live || !box.current) return;
        widget = api.render(box.current, {
          sitekey: siteKey,
          action: 'trial',
          language: locale,
          callback: (token: string) => onToken(token),
          'expired-callback': () => onToken(null),
          'error-callback': () => onToken(null),
        });
        setState('ready');
      },
      () => live && setState('failed'),
    );
    return () => {
      live = false;
      if (widget && window.turnstile) window.turnstile.remove(widget);
    };
    // onToken is stable per page; a reset renders a fresh widget.
  }, [siteKey, resetKey]);

  if (siteKey) {
    return (
      <div class="field">
        <span class="label">{t.trial.humanCheck}</span>
        <div ref={box} />
        {state === 'loading' && <p class="hint">{t.trial.widgetLoading}</p>}
        {state === 'failed' && <p class="field-error">{t.trial.widgetFailed}</p>}
      </div>
    );
  }
  return (
    <fieldset class="field stand-in">
      <legend>{t.trial.humanCheck}</legend>
      <p class="stand-in-label">{t.trial.standIn}</p>
      <label class="check" for={id}>
        <input
          id={id}
          type="checkbox"
          checked={checked}
          onChange={(event) => {
            const on = (event.currentTarget as HTMLInputElement).checked;
            setChecked(on);
            onToken(on ? DUMMY_TOKEN : null);
          }}
        />
        {t.trial.standInConfirm}
      </label>
    </fieldset>
  );
}
