// What every page shares: the language, the signed-in wallet (or null), and a way to refresh it.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Wallet } from './api/types';
import type { Locale } from './lib/locale';
import type { Messages } from './i18n';

export interface AppState {
  t: Messages;
  locale: Locale;
  /** undefined while loading, null when signed out. */
  me: Wallet | null | undefined;
  refreshMe: () => Promise<Wallet | null>;
  setMe: (me: Wallet | null) => void;
  switchLocale: (locale: Locale) => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('useApp outside the app');
  return state;
}
