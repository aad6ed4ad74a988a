import { Page } from '../components/page';
import { useApp } from '../state';

export default function NotFound() {
  const { t } = useApp();
  return (
    <Page title={t.notFound.title}>
      <p>{t.notFound.text}</p>
      <a class="button" href="/">{t.notFound.home}</a>
    </Page>
  );
}
