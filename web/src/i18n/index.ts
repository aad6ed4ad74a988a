import type { Locale } from '../lib/locale';
import { en, type Messages } from './en';
import { ja } from './ja';
import type { ApiFailure } from '../api/errors';

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

export function formatDate(locale: Locale, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function formatPrice(locale: Locale, amount: number, currency: string): string {
  return new Intl.NumberFormat(locale === 'ja' ? 'ja-JP' : 'en-US', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);
}
