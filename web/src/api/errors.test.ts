import { describe, expect, it } from 'vitest';
import { ApiFailure, failureFrom, isErrorCode, parseRetryAfter } from './errors';
import { uploadHeaders } from './upload';

describe('failureFrom', () => {
  it('reads the stable code of an error body', () => {
    const failure = failureFrom(400, { error: { code: 'invalid_code', message: 'x' } }, null);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect([failure.status, failure.code, failure.retryAfter]).toEqual([400, 'invalid_code', null]);
  });

  it('keeps Retry-After', () => {
    const failure = failureFrom(429, { error: { code: 'rate_limited', message: 'x' } }, '30');
    expect([failure.code, failure.retryAfter]).toEqual(['rate_limited', 30]);
  });

  it('treats API Gateway\'s bare 404 as a route not deployed yet', () => {
    expect(failureFrom(404, { message: 'Not Found' }, null).code).toBe('not_deployed');
  });

  it('falls back by status for unknown codes and unreadable bodies', () => {
    expect(failureFrom(401, undefined, null).code).toBe('unauthorized');
    expect(failureFrom(429, 'busy', '2').code).toBe('rate_limited');
    expect(failureFrom(503, { error: { code: 'brand_new_code' } }, null).code).toBe('internal_error');
    expect(failureFrom(418, null, null).code).toBe('unexpected');
  });

  it('knows its own codes', () => {
    expect(isErrorCode('quote_too_long')).toBe(true);
    expect(isErrorCode('nope')).toBe(false);
    expect(isErrorCode(7)).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter('0')).toBe(1);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
  });
});

describe('uploadHeaders', () => {
  it('sends the listed headers but those a page may not set', () => {
    const headers = uploadHeaders({
      method: 'PUT',
      url: 'http://s3/x',
      expires_in: 600,
      headers: { 'content-type': 'image/png', 'content-length': '12', host: 's3', 'x-amz-meta-a': 'b' },
    });
    expect(headers).toEqual([
      ['content-type', 'image/png'],
      ['x-amz-meta-a', 'b'],
    ]);
  });
});
