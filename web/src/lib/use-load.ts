import { useCallback, useEffect, useState } from 'preact/hooks';
import { asFailure, type ApiFailure } from '../api/errors';

export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'ok'; data: T }
  | { state: 'error'; failure: ApiFailure };

/** Loads once per change of `key`; `reload` loads again; `set` replaces the data in place. */
export function useLoad<T>(load: () => Promise<T>, key: unknown[] = []) {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setLoaded({ state: 'loading' });
    load().then(
      (data) => live && setLoaded({ state: 'ok', data }),
      (error) => live && setLoaded({ state: 'error', failure: asFailure(error) }),
    );
    return () => {
      live = false;
    };
  }, [round, ...key]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  const set = useCallback((data: T) => setLoaded({ state: 'ok', data }), []);
  return { loaded, reload, set };
}
