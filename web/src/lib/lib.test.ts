import { describe, expect, it, vi } from 'vitest';
import { deviceId } from './device';
import { checkFile, formatBytes } from './files';
import { chooseLocale, localeFromCookie } from './locale';
import { safeNext } from './next';
import { nextDelay, poll } from './poll';
import { allFinal, imageFiles } from './generations';

function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (key) => map.get(key) ?? null,
    key: (index) => [...map.keys()][index] ?? null,
    removeItem: (key) => void map.delete(key),
    setItem: (key, value) => void map.set(key, value),
  };
}

describe('device id', () => {
  it('is made once and then kept', () => {
    const storage = memoryStorage();
    const first = deviceId(storage, () => '3b241101-e2bb-4255-8caf-4136c566a962');
    expect(first).toBe('3b241101-e2bb-4255-8caf-4136c566a962');
    expect(deviceId(storage, () => 'other')).toBe(first);
    expect(storage.length).toBe(1);
  });

  it('replaces a value that is not a UUID', () => {
    const storage = memoryStorage();
    storage.setItem('anumi.device_id', 'tampered');
    expect(deviceId(storage, () => '00000000-0000-4000-8000-000000000000')).toBe('00000000-0000-4000-8000-000000000000');
  });

  it('uses crypto.randomUUID by default', () => {
    expect(deviceId(memoryStorage())).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('file checks', () => {
  const limits = { max_bytes: 1000, content_types: ['image/jpeg', 'image/png', 'image/webp'] };
  it('accepts the allowed types within the size', () => {
    expect(checkFile({ type: 'image/png', size: 1000 }, limits)).toBeNull();
  });
  it('refuses other types, empty and oversized files', () => {
    expect(checkFile({ type: 'application/pdf', size: 10 }, limits)).toBe('unsupported_image_type');
    expect(checkFile({ type: 'image/gif', size: 10 }, limits)).toBe('unsupported_image_type');
    expect(checkFile({ type: 'image/jpeg', size: 0 }, limits)).toBe('empty_file');
    expect(checkFile({ type: 'image/jpeg', size: 1001 }, limits)).toBe('image_too_large');
  });
  it('writes sizes for people', () => {
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MB');
    expect(formatBytes(2.5 * 1024 * 1024)).toBe('2.5 MB');
    expect(formatBytes(830 * 1024)).toBe('830 KB');
  });
});

describe('locale', () => {
  it('takes the cookie first', () => {
    expect(chooseLocale('session=x; locale=ja', ['en-US'])).toBe('ja');
    expect(chooseLocale('locale=en', ['ja-JP'])).toBe('en');
  });
  it('then the browser languages, then English', () => {
    expect(chooseLocale('', ['ja-JP', 'en'])).toBe('ja');
    expect(chooseLocale('locale=fr', ['fr-FR', 'en-GB'])).toBe('en');
    expect(chooseLocale('', ['de'])).toBe('en');
    expect(chooseLocale('', [])).toBe('en');
  });
  it('ignores cookies that are not a known language', () => {
    expect(localeFromCookie('locale=xx')).toBeNull();
    expect(localeFromCookie('mylocale=ja')).toBeNull();
  });
});

describe('next after sign-in', () => {
  it('stays on this app', () => {
    expect(safeNext('/credits?checkout_id=1')).toBe('/credits?checkout_id=1');
    expect(safeNext('https://evil.example/')).toBe('/create');
    expect(safeNext('//evil.example/')).toBe('/create');
    expect(safeNext('/api/me')).toBe('/create');
    expect(safeNext(null, '/generations')).toBe('/generations');
  });
});

describe('polling backoff', () => {
  it('grows to a ceiling', () => {
    const backoff = { initialMs: 1000, factor: 2, maxMs: 5000 };
    expect([0, 1, 2, 3, 4].map((n) => nextDelay(n, backoff))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
  it('waits at least what the server asked', () => {
    expect(nextDelay(0, undefined, 30)).toBe(30_000);
  });

  it('polls until the answer is final, then stops', async () => {
    const answers = ['queued', 'generating', 'ready', 'never'];
    const seen: string[] = [];
    const delays: number[] = [];
    await new Promise<void>((resolve) => {
      poll({
        load: async () => answers.shift()!,
        done: (status) => status === 'ready',
        onValue: (status) => {
          seen.push(status);
          if (status === 'ready') resolve();
        },
        schedule: (run, ms) => {
          delays.push(ms);
          queueMicrotask(run);
          return 0;
        },
      });
    });
    expect(seen).toEqual(['queued', 'generating', 'ready']);
    expect(delays).toEqual([400, 440]);
  });

  it('keeps going after a passing error, honouring Retry-After, and stops on a fatal one', async () => {
    const load = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(Object.assign(new Error('busy'), { retryAfter: 7 }))
      .mockRejectedValueOnce(Object.assign(new Error('gone'), { fatal: true }));
    const delays: number[] = [];
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      poll({
        load,
        done: () => true,
        onValue: () => {},
        onError: (error) => {
          errors.push(error);
          if (errors.length === 2) setTimeout(resolve, 0);
        },
        fatal: (error) => (error as { fatal?: boolean }).fatal === true,
        schedule: (run, ms) => {
          delays.push(ms);
          queueMicrotask(run);
          return 0;
        },
      });
    });
    expect(delays).toEqual([7000]);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('stops when told to', async () => {
    const load = vi.fn(async () => 'queued');
    let scheduled: (() => void) | null = null;
    const stop = poll({ load, done: () => false, onValue: () => {}, schedule: (run) => ((scheduled = run), 1), cancel: () => {} });
    await vi.waitFor(() => expect(scheduled).not.toBeNull());
    stop();
    scheduled!();
    expect(load).toHaveBeenCalledTimes(1);
  });
});

describe('generations', () => {
  const base = { style: 'anime' as const, products: ['avatar' as const], cost: 1, charge: 'charged' as const, created_at: '', downloads: {} };
  it('are all final when none is moving', () => {
    expect(allFinal([{ ...base, id: 'a', status: 'ready' }, { ...base, id: 'b', status: 'failed' }])).toBe(true);
    expect(allFinal([{ ...base, id: 'a', status: 'ready' }, { ...base, id: 'b', status: 'queued' }])).toBe(false);
  });
  it('show the avatar first and keep the bundle apart', () => {
    expect(imageFiles({ 'bundle.zip': 'z', 'README.txt': 'r', 'speech-bubble.png': 'b', 'avatar.png': 'a', 'sticker.png': 's' }).map(([n]) => n)).toEqual([
      'avatar.png',
      'sticker.png',
      'speech-bubble.png',
    ]);
  });
});
