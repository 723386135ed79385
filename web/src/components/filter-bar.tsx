/**
 * The filter bar above a list: the page's selects (its children), then a search field that applies on Enter or
 * when it loses focus (not per keystroke, so the list does not reload while typing), and a Clear button when the
 * page passes `onClear`. When the query in the URL changes (a link, Clear), the field shows the new one.
 */
import { useState, type ReactNode } from 'react';
import { Panel } from './page.tsx';

export function FilterBar({
  query,
  onSearch,
  placeholder,
  searchName,
  onClear,
  children,
}: {
  query: string;
  onSearch(text: string): void;
  placeholder: string;
  searchName?: string;
  onClear?: () => void;
  children: ReactNode;
}) {
  const [text, setText] = useState(query);
  const [shown, setShown] = useState(query);
  if (query !== shown) {
    // The query changed from elsewhere (a link, Clear, or this field applied): show it.
    setShown(query);
    setText(query);
  }
  return (
    <Panel>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          onSearch(text.trim());
        }}
      >
        {children}
        <label className="grow">
          Search
          <input name={searchName} type="search" placeholder={placeholder} value={text} onChange={(event) => setText(event.target.value)} onBlur={() => onSearch(text.trim())} />
        </label>
        {/* Enter submits a form with two text fields (the alert list's) only when it has a submit button. */}
        <button type="submit" hidden />
        {onClear && (
          <button
            type="button"
            className="button button-ghost"
            onClick={() => {
              setText('');
              onClear();
            }}
          >
            Clear
          </button>
        )}
      </form>
    </Panel>
  );
}
