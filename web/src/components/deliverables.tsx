import type { Generation } from '../api/types';
import { imageFiles } from '../lib/generations';
import { useApp } from '../state';

/** The avatar, sticker and bubble, each shown and downloadable, and the bundle. */
export function Deliverables({ generation }: { generation: Generation }) {
  const { t } = useApp();
  const images = imageFiles(generation.downloads);
  const bundle = generation.downloads['bundle.zip'];
  return (
    <>
      <ul class="deliverables">
        {images.map(([name, url], index) => {
          const what = t.generation.files[name] ?? name;
          return (
            <li key={name} class="card deliverable">
              <img src={url} alt={t.generation.imageAlt(what)} width={512} height={512} fetchpriority={index === 0 ? 'high' : 'auto'} />
              <a class="button button-secondary" href={url} download={name}>
                {t.generation.download(what)}
              </a>
            </li>
          );
        })}
      </ul>
      {bundle && (
        <p>
          <a class="button" href={bundle} download="anumi-bundle.zip">{t.generation.bundle}</a>
        </p>
      )}
    </>
  );
}
