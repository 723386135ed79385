/** A page path the console does not have. */
import { Link } from 'react-router';
import { EmptyState } from '../components/empty-state.tsx';

export default function NotFoundPage() {
  return (
    <EmptyState title="This page does not exist" icon="?">
      <Link to="/">Back to the overview</Link>
    </EmptyState>
  );
}
