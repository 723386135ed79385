/**
 * The filter bar above a list: the page's selects (its children), then a search field that applies on Enter or
 * when it loses focus (not per keystroke, so the list does not reload while typing), and a Clear button when the
 * page passes `onClear`.
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
