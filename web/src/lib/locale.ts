export type Locale = 'en' | 'ja';
export const LOCALES: readonly Locale[] = ['en', 'ja'];

/** The `locale` cookie (set by the API) when it names a language we have. */
export function localeFromCookie(cookie: string): Locale | null {
  for (const pair of cookie.split(';')) {
    const [name, value] = pair.trim().split('=');
    if (name === 'locale' && (value === 'en' || value === 'ja')) return value;
  }
  return null;
}

/** The cookie first (a choice made in the app), then the browser's languages, then English. */
export function chooseLocale(cookie: string, languages: readonly string[]): Locale {
  const chosen = localeFromCookie(cookie);
  if (chosen) return chosen;
  for (const language of languages) {
    const primary = language.toLowerCase().split('-')[0];
    if (primary === 'ja') return 'ja';
    if (primary === 'en') return 'en';
  }
  return 'en';
}
