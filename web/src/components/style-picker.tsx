import { useId } from 'preact/hooks';
import type { Style } from '../api/types';
import { useApp } from '../state';

export function StylePicker({ styles, value, onChange }: { styles: Style[]; value: Style; onChange: (style: Style) => void }) {
  const { t } = useApp();
  const name = useId();
  return (
    <fieldset class="field styles">
      <legend>{t.create.style}</legend>
      <div class="style-options">
        {styles.map((style) => (
          <label key={style} class={value === style ? 'style-option selected' : 'style-option'}>
            <input type="radio" name={name} value={style} checked={value === style} onChange={() => onChange(style)} />
            <img src={`/samples/${style}.webp`} alt="" width={96} height={96} loading="lazy" decoding="async" />
            <span>{t.styles[style] ?? style}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
