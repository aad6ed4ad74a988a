import { exportDownloadUrl } from '../api/client';
import { Page } from '../components/page';
import { useApp } from '../state';

/** The page the export email links to: the download itself is an API route that checks the
 * link's signature and redirects to the archive. */
export default function ExportPage({ query }: { query: URLSearchParams }) {
  const { t } = useApp();
  const complete = ['p', 'r', 'sig'].every((key) => query.get(key));
  const forward = new URLSearchParams();
  for (const key of ['p', 'r', 'sig']) forward.set(key, query.get(key) ?? '');
  return (
    <Page title={t.exportPage.title}>
      {complete ? (
        <div class="card">
          <p>{t.exportPage.text}</p>
          <a class="button" href={exportDownloadUrl(forward.toString())} download>
            {t.exportPage.download}
          </a>
        </div>
      ) : (
        <div class="note note-error" role="alert">
          <p>{t.exportPage.missing}</p>
          <a href="/privacy">{t.app.privacy}</a>
        </div>
      )}
    </Page>
  );
}
