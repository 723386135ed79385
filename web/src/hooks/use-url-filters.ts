/**
 * A list page's filters, kept in the URL's query string so a filtered view can be shared and survives a reload.
 * `set` writes one filter (an empty value removes it), `clear` removes them all; both replace the history entry
 * rather than adding one per keystroke.
 */
import { useSearchParams } from 'react-router';

export function useUrlFilters() {
  const [params, setParams] = useSearchParams();
  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const clear = () => setParams(new URLSearchParams(), { replace: true });
  return { params, set, clear };
}
