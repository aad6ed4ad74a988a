import type { Locale } from '../lib/locale';
import { en, type Messages } from './en';
import { ja } from './ja';
import type { ApiFailure } from '../api/errors';
import type { Generation } from '../api/types';

export type { Messages };
export const MESSAGES: Record<Locale, Messages> = { en, ja };

/** The words for a failed call, with how long to wait when the server said so. */
export function describeFailure(t: Messages, failure: Pick<ApiFailure, 'code' | 'retryAfter'>): string {
  const words = t.errors[failure.code];
  return failure.retryAfter ? `${words} ${t.app.waitFor(failure.retryAfter)}` : words;
}

/** The words for why a generation failed (its `failure` field). */
export function describeGenerationFailure(t: Messages, reason: string | undefined): string {
  if (!reason) return t.failure.other;
  if (reason in t.failure) return t.failure[reason as keyof Messages['failure']];
  if (reason.startsWith('quote_')) return t.failure.quote;
  return t.failure.other;
}

/** The sentence for where a generation stands, or null when there is nothing to explain: a
 * failure, or a selfie held by moderation (the API's `reason`, with the review deadline while
 * it is held; a free trial costs nothing, so it has no credits to give back). */
export function describeGenerationState(
  t: Messages,
  locale: Locale,
  generation: Pick<Generation, 'status' | 'failure' | 'cost' | 'reason' | 'review_by'>,
): string | null {
  if (generation.status === 'failed') return describeGenerationFailure(t, generation.failure);
  const credits = generation.cost > 0 ? ` ${t.generations.creditsBack}` : '';
  switch (generation.reason) {
    case 'held_for_review':
      return generation.review_by
        ? `${t.generations.held(formatDate(locale, generation.review_by))}${credits}`
        : t.generations.blockedText;
    case 'removed_after_review':
      return `${t.generations.removedAfterReview}${credits}`;
    case 'removed_unreviewed':
      return `${t.generations.removedUnreviewed}${credits}`;
    case 'approved_after_review':
      return t.generations.approved;
    default:
      return generation.status === 'blocked' ? t.generations.blockedText : null;
  }
}

export function formatDate(locale: Locale, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function formatPrice(locale: Locale, amount: number, currency: string): string {
  return new Intl.NumberFormat(locale === 'ja' ? 'ja-JP' : 'en-US', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);
}
