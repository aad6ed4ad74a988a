import type { Generation } from '../api/types';
import { describeGenerationFailure } from '../i18n';
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

/** Why it stopped, in words (blocked and failed ones). */
export function StatusReason({ generation }: { generation: Generation }) {
  const { t } = useApp();
  if (generation.status === 'failed') return <p class="reason">{describeGenerationFailure(t, generation.failure)}</p>;
  if (generation.status === 'blocked') return <p class="reason">{t.generations.blockedText}</p>;
  return null;
}
