/**
 * Reading one API resource: loads it, keeps showing the last answer while it reloads (no flicker on polls or
 * filter changes), polls while the tab is visible when asked to, and drops answers that arrive after the request
 * changed. `reload()` fetches again at once (after an action).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type Query } from '../api/client.ts';

export interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

export function useResource<T>(path: string | undefined, query: Query = {}, options: { pollMs?: number } = {}): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(path !== undefined);
  const [tick, setTick] = useState(0);
  const key = path === undefined ? undefined : `${path}?${JSON.stringify(query)}`;
  const lastKey = useRef(key);

  useEffect(() => {
    if (path === undefined) return;
    const controller = new AbortController();
    if (lastKey.current !== key) {
      // A different resource: what was shown belongs to the old one.
      lastKey.current = key;
      setData(undefined);
    }
    setLoading(true);
    api
      .get<T>(path, query, controller.signal)
      .then((answer) => {
        setData(answer);
        setError(undefined);
      })
      .catch((failure: Error) => {
        if (failure.name !== 'AbortError') setError(failure);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
    // `key` stands for path and query.
  }, [key, tick]);

  useEffect(() => {
    if (!options.pollMs || path === undefined) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((value) => value + 1);
    }, options.pollMs);
    return () => clearInterval(timer);
  }, [options.pollMs, path]);

  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data, error, loading, reload };
}
