import { useEffect, useId, useState } from 'preact/hooks';
import { checkFile, formatBytes, type UploadLimits } from '../lib/files';
import { useApp } from '../state';

/** The selfie: chosen with the file picker or dropped; its type and size checked at once. */
export function FileField({ limits, onFile }: { limits: UploadLimits; onFile: (file: File | null) => void }) {
  const { t } = useApp();
  const id = useId();
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const max = formatBytes(limits.max_bytes);
  const types = limits.content_types.map((type) => type.replace('image/', '').toUpperCase()).join(', ');

  useEffect(() => () => {
    if (preview) URL.revokeObjectURL(preview);
  }, [preview]);

  const take = (chosen: File | null | undefined) => {
    if (!chosen) return;
    const found = checkFile(chosen, limits);
    setFile(chosen);
    if (found) {
      setProblem(found === 'image_too_large' ? t.file.problems.image_too_large(max) : t.file.problems[found]);
      setPreview(null);
      onFile(null);
      return;
    }
    setProblem(null);
    setPreview(URL.createObjectURL(chosen));
    onFile(chosen);
  };

  return (
    <fieldset class="field file-field">
      <legend>{t.file.legend}</legend>
      <div
        class={over ? 'drop-zone drop-over' : 'drop-zone'}
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(event) => {
          event.preventDefault();
          setOver(false);
          take(event.dataTransfer?.files[0]);
        }}
      >
        {preview ? <img class="preview" src={preview} alt={t.file.preview} /> : <span class="drop-icon" aria-hidden="true">☺</span>}
        <div>
          <label for={id} class="button button-secondary file-button">
            {t.file.choose}
          </label>
          <input
            id={id}
            class="visually-hidden"
            type="file"
            accept={limits.content_types.join(',')}
            aria-describedby={`${id}-hint ${id}-problem`}
            onChange={(event) => take((event.currentTarget as HTMLInputElement).files?.[0])}
          />
          <span class="muted"> {t.file.drop}</span>
          <p class="hint" id={`${id}-hint`}>
            {file ? t.file.chosen(file.name, formatBytes(file.size)) : t.file.hint(types, max)}
          </p>
        </div>
      </div>
      <p id={`${id}-problem`} class="field-error" role={problem ? 'alert' : undefined}>
        {problem}
      </p>
    </fieldset>
  );
}

export function UploadProgress({ fraction }: { fraction: number }) {
  const { t } = useApp();
  const percent = Math.round(fraction * 100);
  return (
    <div class="progress">
      <label>
        {t.file.progress}
        <progress max={100} value={percent}>
          {percent}%
        </progress>
      </label>
      <span aria-hidden="true">{percent}%</span>
    </div>
  );
}
