import type { components } from './schema';

// Errors the app shows: every failure of a call becomes an ApiFailure with a stable code, so
// pages branch on codes and the words come from src/i18n.

/** Every code the API answers with (shared/src/web and the routes' README rows), plus the
 * client's own: `network` (no answer), `unexpected` (an answer we cannot read), `not_deployed`
 * (the route is not served yet). */
export const ERROR_CODES = [
  'already_reviewed',
  'billing_unavailable',
  'invalid_signature',
  'malformed_event',
  'order_not_credited',
  'body_too_large',
  'campaign_exists',
  'checkout_unavailable',
  'email_changed',
  'email_taken',
  'email_unavailable',
  'export_not_found',
  'field_too_long',
  'forbidden',
  'generation_in_progress',
  'generation_not_found',
  'image_too_large',
  'insufficient_credits',
  'invalid_campaign',
  'internal_error',
  'invalid_code',
  'invalid_code_format',
  'invalid_context',
  'invalid_device_id',
  'invalid_email',
  'invalid_field',
  'invalid_idempotency_key',
  'invalid_locale',
  'invalid_message',
  'invalid_order_id',
  'invalid_page',
  'invalid_reason',
  'invalid_token',
  'invalid_turnstile_token',
  'invalid_unsubscribe_body',
  'malformed_json',
  'method_not_allowed',
  'missing_field',
  'not_found',
  'nothing_to_change',
  'payment_provider_error',
  'payment_provider_unavailable',
  'processing_restricted',
  'queue_unavailable',
  'quote_empty',
  'quote_invalid_characters',
  'quote_required',
  'quote_too_long',
  'quote_unsupported_characters',
  'quote_without_speech_bubble',
  'rate_limited',
  'same_email',
  'trial_already_used',
  'trial_limit_reached',
  'trial_not_found',
  'turnstile_failed',
  'turnstile_token_used',
  'turnstile_unavailable',
  'unauthorized',
  'unknown_event',
  'unknown_field',
  'unknown_product',
  'unknown_style',
  'unsupported_image_type',
  'unsupported_media_type',
  'network',
  'unexpected',
  'not_deployed',
  'upload_failed',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Fails to compile when openapi.yaml names a code this list (and so the words) lacks. */
type Unlisted = Exclude<components['schemas']['ErrorCode'], ErrorCode>;
export const EVERY_API_CODE_LISTED: Unlisted extends never ? true : Unlisted = true;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}

/** A failed call: HTTP status (0 without an answer), stable code, seconds to wait if told. */
export class ApiFailure extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly retryAfter: number | null;

  constructor(status: number, code: ErrorCode, retryAfter: number | null = null) {
    super(code);
    this.name = 'ApiFailure';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.max(1, Number(trimmed));
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(1, Math.ceil((at - now) / 1000));
}

/** Reads a failed answer: `{"error":{"code":…}}` from our functions; API Gateway's bare
 * `{"message":"Not Found"}` for a path nothing serves means the route is not deployed. */
export function failureFrom(status: number, body: unknown, retryAfter: string | null): ApiFailure {
  const wait = parseRetryAfter(retryAfter);
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  if (isErrorCode(code)) return new ApiFailure(status, code, wait);
  if (status === 404) return new ApiFailure(status, 'not_deployed', wait);
  if (status === 401) return new ApiFailure(status, 'unauthorized', wait);
  if (status === 429) return new ApiFailure(status, 'rate_limited', wait);
  return new ApiFailure(status, status >= 500 ? 'internal_error' : 'unexpected', wait);
}

export function asFailure(error: unknown): ApiFailure {
  return error instanceof ApiFailure ? error : new ApiFailure(0, 'network');
}
