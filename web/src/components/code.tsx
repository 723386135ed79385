/** Monospaced text: paths, digests, commands; long values wrap instead of widening the page. */
import { useState, type ReactNode } from 'react';

export function Code({ children, title }: { children: ReactNode; title?: string }) {
  return (
    <code className="code" title={title}>
      {children}
    </code>
  );
}

export function CommandBlock({ command }: { command: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="command-block">
      <pre>{command}</pre>
      <button
        type="button"
        className="button button-small"
        onClick={() => {
          void navigator.clipboard?.writeText(command).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          });
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
