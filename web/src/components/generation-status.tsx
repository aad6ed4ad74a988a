import type { Generation } from '../api/types';
import { describeGenerationState } from '../i18n';
import { isFinal } from '../lib/generations';
import { useApp } from '../state';

export function StatusBadge({ generation }: { generation: Generation }) {
  const { t } = useApp();
  return (
    <span class={`badge badge-${generation.status}`}>
      {!isFinal(generation.status) && <span class="spinner" aria-hidden="true" />}
      {t.status[generation.status] ?? generation.status}
    </span>
  );
}

/** Why it stopped, in words: a failure, or where a selfie held by moderation stands (the
 * API's `reason`, with the review deadline while it is held). */
export function StatusReason({ generation }: { generation: Generation }) {
  const { t, locale } = useApp();
  const words = describeGenerationState(t, locale, generation);
  return words ? <p class="reason">{words}</p> : null;
}
