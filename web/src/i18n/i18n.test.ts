import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../api/errors';
import { describeFailure, describeGenerationFailure, describeGenerationState, formatDate } from '.';
import { en } from './en';
import { ja } from './ja';

/** Every leaf of a message tree, as "a.b.c" paths, with its kind. */
function leaves(tree: unknown, prefix = '', values = new Map<string, unknown>()): Map<string, string> {
  const found = new Map<string, string>();
  if (tree && typeof tree === 'object' && !Array.isArray(tree)) {
    for (const [key, value] of Object.entries(tree)) {
      for (const [path, kind] of leaves(value, prefix ? `${prefix}/${key}` : key, values)) found.set(path, kind);
    }
  } else {
    found.set(prefix, Array.isArray(tree) ? `array:${tree.length}` : typeof tree);
    values.set(prefix, tree);
  }
  return found;
}

describe('i18n', () => {
  it('has the same keys, of the same kind, in English and Japanese', () => {
    expect([...leaves(ja)].sort()).toEqual([...leaves(en)].sort());
  });

  it('has no empty string in either language', () => {
    for (const messages of [en, ja]) {
      const values = new Map<string, unknown>();
      for (const [path, kind] of leaves(messages, '', values)) {
        if (kind === 'string') expect(values.get(path), path).not.toBe('');
      }
    }
  });

  it('has words for every error code, in both languages', () => {
    for (const code of ERROR_CODES) {
      expect(en.errors[code], code).toBeTruthy();
      expect(ja.errors[code], code).toBeTruthy();
      expect(ja.errors[code]).not.toBe(en.errors[code]);
    }
  });

  it('has words for every style, product and status the API names', () => {
    for (const messages of [en, ja]) {
      for (const style of ['anime', 'chibi', 'watercolor']) expect(messages.styles[style]).toBeTruthy();
      for (const product of ['avatar', 'stickers', 'speech_bubble']) expect(messages.products[product]).toBeTruthy();
      for (const status of ['awaiting_upload', 'queued', 'generating', 'ready', 'blocked', 'removed', 'failed']) {
        expect(messages.status[status]).toBeTruthy();
      }
    }
  });
});

describe('error words', () => {
  it('maps a code to its words', () => {
    expect(describeFailure(en, { code: 'invalid_code', retryAfter: null })).toBe(en.errors.invalid_code);
    expect(describeFailure(ja, { code: 'insufficient_credits', retryAfter: null })).toBe('クレジットが足りません。');
  });

  it('adds how long to wait when the server said so', () => {
    expect(describeFailure(en, { code: 'rate_limited', retryAfter: 42 })).toBe('Too many attempts. You can try again in 42 s.');
    expect(describeFailure(ja, { code: 'rate_limited', retryAfter: 5 })).toContain('5秒後');
  });

  it('explains why a generation failed', () => {
    expect(describeGenerationFailure(en, 'moderation_blocked')).toBe(en.failure.moderation_blocked);
    expect(describeGenerationFailure(en, 'quote_too_long')).toBe(en.failure.quote);
    expect(describeGenerationFailure(ja, 'provider_unavailable')).toBe(ja.failure.other);
    expect(describeGenerationFailure(en, undefined)).toBe(en.failure.other);
  });
});

describe('a selfie held by moderation', () => {
  const reviewBy = '2026-12-04T10:00:00Z';
  const held = { status: 'blocked', cost: 2, reason: 'held_for_review', review_by: reviewBy } as const;

  it('says it is held, until when, and that the credits came back, in both languages', () => {
    const words = describeGenerationState(en, 'en', held);
    expect(words).toContain('A person reviews it within 5 days');
    expect(words).toContain(formatDate('en', reviewBy));
    expect(words).toContain(en.generations.creditsBack);
    const jaWords = describeGenerationState(ja, 'ja', held);
    expect(jaWords).toContain(formatDate('ja', reviewBy));
    expect(jaWords).toContain(ja.generations.creditsBack);
  });

  it('speaks of no credits for a free trial', () => {
    expect(describeGenerationState(en, 'en', { ...held, cost: 0 })).not.toContain(en.generations.creditsBack);
  });

  it('tells the outcome of the review', () => {
    expect(describeGenerationState(en, 'en', { status: 'removed', cost: 1, reason: 'removed_after_review' })).toBe(
      `${en.generations.removedAfterReview} ${en.generations.creditsBack}`,
    );
    expect(describeGenerationState(ja, 'ja', { status: 'removed', cost: 0, reason: 'removed_unreviewed' })).toBe(
      ja.generations.removedUnreviewed,
    );
    expect(describeGenerationState(en, 'en', { status: 'ready', cost: 1, reason: 'approved_after_review' })).toBe(
      en.generations.approved,
    );
  });

  it('falls back to the general words without a reason, and says nothing of a plain order', () => {
    expect(describeGenerationState(en, 'en', { status: 'blocked', cost: 1 })).toBe(en.generations.blockedText);
    expect(describeGenerationState(en, 'en', { status: 'ready', cost: 1 })).toBeNull();
  });
});
