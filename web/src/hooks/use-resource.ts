/**
 * Reading one API resource: loads it, keeps showing the last answer while it reloads (no flicker on polls),
 * polls while the tab is visible when asked to, and never shows one resource's answer (or error) for another.
 * `reload()` fetches again at once (after an action).
 */
import { useCallback, useEffect, useState } from 'react';
import { api, type Query } from '../api/client.ts';

interface Resource<T> {
  data: T | undefined;
  error: Error | undefined;
  reload(): void;
}

export function useResource<T>(path: string, query: Query = {}, options: { pollMs?: number } = {}): Resource<T> {
  const key = `${path}?${JSON.stringify(query)}`;
  // Each answer remembers the request it answers: when the request changes, the old one is simply not shown.
  const [answer, setAnswer] = useState<{ key: string; data?: T; error?: Error }>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api
      .get<T>(path, query, controller.signal)
      .then((data) => setAnswer({ key, data }))
      .catch((failure: Error) => {
        if (failure.name !== 'AbortError') setAnswer((last) => ({ key, data: last?.key === key ? last.data : undefined, error: failure }));
      });
    return () => controller.abort();
    // `key` stands for path and query.
  }, [key, tick]);

  useEffect(() => {
    if (!options.pollMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((value) => value + 1);
    }, options.pollMs);
    return () => clearInterval(timer);
  }, [options.pollMs]);

  const reload = useCallback(() => setTick((value) => value + 1), []);
  const current = answer?.key === key ? answer : undefined;
  return { data: current?.data, error: current?.error, reload };
}
