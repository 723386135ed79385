/** A time shown relative (`5 min. ago`), exact on hover; re-rendered with its parent's polling. */
import { dateTime, timeAgo } from '../format.ts';

export function TimeAgo({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  return (
    <time dateTime={at} title={dateTime(at)}>
      {timeAgo(at)}
    </time>
  );
}
