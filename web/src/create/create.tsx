import { useEffect, useId, useState } from 'preact/hooks';
import { createUpload, getCatalog, type LoadedCatalog } from '../api/client';
import { asFailure, type ApiFailure } from '../api/errors';
import { putFile } from '../api/upload';
import type { ImageType, Product, Style } from '../api/types';
import { FileField, UploadProgress } from '../components/file-field';
import { Page } from '../components/page';
import { StylePicker } from '../components/style-picker';
import { ErrorNote, Loading, Notice, SignInFirst } from '../components/status';
import { track } from '../lib/analytics';
import { useLoad } from '../lib/use-load';
import { loadQuoteRules, type QuoteError } from '../quote/rules';
import { useApp } from '../state';

export default function Create() {
  const { t, me } = useApp();
  const catalog = useLoad(getCatalog);
  if (me === undefined) return <Page title={t.create.title}><Loading /></Page>;
  if (me === null) return <Page title={t.create.title}><SignInFirst /></Page>;
  return (
    <Page title={t.create.title}>
      {catalog.loaded.state === 'loading' && <Loading />}
      {catalog.loaded.state === 'error' && <ErrorNote failure={catalog.loaded.failure} onRetry={catalog.reload} />}
      {catalog.loaded.state === 'ok' && <Order catalog={catalog.loaded.data} credits={me.credits} />}
    </Page>
  );
}

type Phase = { name: 'editing' } | { name: 'uploading'; fraction: number } | { name: 'done'; generationId: string };

function Order({ catalog, credits }: { catalog: LoadedCatalog; credits: number }) {
  const { t, refreshMe } = useApp();
  const quoteId = useId();
  const [style, setStyle] = useState<Style>(catalog.styles[0] ?? 'anime');
  const [stickers, setStickers] = useState(false);
  const [bubble, setBubble] = useState(false);
  const [quote, setQuote] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>({ name: 'editing' });
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [check, setCheck] = useState<((text: string) => QuoteError | null) | null>(null);

  useEffect(() => {
    loadQuoteRules().then((rules) => setCheck(() => rules), () => {});
  }, []);

  const quoteProblem: QuoteError | null = bubble && check && quote !== '' ? check(quote) : null;
  const cost = catalog.costs.avatar + (stickers ? catalog.costs.stickers : 0) + (bubble ? catalog.costs.speech_bubble : 0);
  const chars = [...quote].length;

  const chooseStyle = (next: Style) => {
    setStyle(next);
    track('style_selected', { style: next, page: '/create' });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setFailure(null);
    const products: Product[] = [...(stickers ? (['stickers'] as const) : []), ...(bubble ? (['speech_bubble'] as const) : [])];
    setPhase({ name: 'uploading', fraction: 0 });
    try {
      const order = await createUpload({
        content_type: file.type as ImageType, // checked by FileField
        content_length: file.size,
        style,
        products,
        ...(bubble ? { quote } : {}),
      });
      track('upload_started', { style, product: products.join('.') || 'avatar' });
      void refreshMe();
      await putFile(order.upload, file, (fraction) => setPhase({ name: 'uploading', fraction }));
      setPhase({ name: 'done', generationId: order.generation_id });
    } catch (error) {
      setFailure(asFailure(error));
      setPhase({ name: 'editing' });
    }
  };

  if (phase.name === 'done') {
    return (
      <div class="card">
        <UploadProgress fraction={1} />
        <Notice kind="ok">{t.create.done}</Notice>
        <a class="button" href={`/generations/${phase.generationId}`}>{t.create.see}</a>
      </div>
    );
  }

  const busy = phase.name === 'uploading';
  return (
    <form class="card form" onSubmit={submit}>
      <StylePicker styles={catalog.styles} value={style} onChange={chooseStyle} />
      <fieldset class="field">
        <legend>{t.create.extras}</legend>
        <p class="check muted">{t.create.avatarIncluded(catalog.costs.avatar)}</p>
        <label class="check">
          <input type="checkbox" checked={stickers} onChange={(e) => setStickers((e.currentTarget as HTMLInputElement).checked)} />
          {t.create.stickers(catalog.costs.stickers)}
        </label>
        <label class="check">
          <input type="checkbox" checked={bubble} onChange={(e) => setBubble((e.currentTarget as HTMLInputElement).checked)} />
          {t.create.bubble(catalog.costs.speech_bubble)}
        </label>
        {bubble && (
          <div class="field">
            <label class="label" for={quoteId}>{t.create.quote}</label>
            <input
              id={quoteId}
              type="text"
              required
              value={quote}
              aria-invalid={quoteProblem ? true : undefined}
              aria-describedby={`${quoteId}-count ${quoteId}-problem`}
              onInput={(e) => setQuote((e.currentTarget as HTMLInputElement).value)}
            />
            <p class="hint" id={`${quoteId}-count`}>{t.create.quoteCount(chars, catalog.quote.max_chars)}</p>
            <p class="field-error" id={`${quoteId}-problem`} role={quoteProblem ? 'alert' : undefined}>
              {quoteProblem ? t.errors[quoteProblem] : ''}
            </p>
          </div>
        )}
      </fieldset>
      <FileField limits={catalog.upload} onFile={setFile} />
      <div class="summary" aria-live="polite">
        <p class="cost">{t.create.cost(cost)}</p>
        <p class="muted">{t.create.balance(credits)}</p>
      </div>
      {cost > credits && (
        <div class="note note-warn" role="status">
          <p>{t.create.noCredits}</p>
          <a class="button button-secondary" href="/credits">{t.create.buyCredits}</a>
        </div>
      )}
      {failure && (
        failure.code === 'insufficient_credits' ? (
          <div class="note note-error" role="alert">
            <p>{t.errors.insufficient_credits}</p>
            <a class="button button-secondary" href="/credits">{t.create.buyCredits}</a>
          </div>
        ) : failure.code === 'processing_restricted' ? (
          <div class="note note-error" role="alert">
            <p>{t.errors.processing_restricted}</p>
            <a href="/privacy">{t.app.privacy}</a>
          </div>
        ) : (
          <ErrorNote failure={failure} />
        )
      )}
      {busy && <UploadProgress fraction={phase.fraction} />}
      <button type="submit" disabled={busy || !file || (bubble && (quote === '' || quoteProblem !== null))}>
        {busy ? t.create.working : t.create.confirm(cost)}
      </button>
    </form>
  );
}
