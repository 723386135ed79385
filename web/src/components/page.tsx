/** The frame of every page: a header with title and subtitle, panels, and how loading and errors look. */
import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';

export function PageHeader({ title, subtitle }: { title: ReactNode; subtitle?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle && <p className="page-subtitle">{subtitle}</p>}
      </div>
    </header>
  );
}

export function Panel({ title, actions, children, className }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`panel ${className ?? ''}`}>
      {(title || actions) && (
        <div className="panel-header">
          {title && <h2>{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}

/** A failed request, or a message a form already worded. */
export function ErrorBanner({ error }: { error: Error | string | undefined }) {
  if (!error) return null;
  const text = typeof error === 'string' ? error : error instanceof ApiError && error.status === 403 ? `You do not have access to this: ${error.message}` : error.message;
  return (
    <div className="banner banner-error" role="alert">
      {text}
    </div>
  );
}

export function Loading() {
  return (
    <div className="loading" aria-busy="true">
      <span className="spinner" /> Loading…
    </div>
  );
}

export function Stat({ label, value, detail, tone }: { label: string; value: ReactNode; detail?: ReactNode; tone?: 'good' | 'warn' | 'bad' }) {
  return (
    <div className={`stat ${tone ? `stat-${tone}` : ''}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {detail && <div className="stat-detail">{detail}</div>}
    </div>
  );
}
