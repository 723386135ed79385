/** The head of one entity's or profile's page: a breadcrumb back to its list, its name with its mode, a subtitle. */
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { EnforcementMode } from '../api/types.ts';
import { ModeBadge } from './badges.tsx';
import { PageHeader } from './page.tsx';

export function DetailHeader({ list, name, mode, subtitle }: { list: { to: string; label: string }; name: string; mode: EnforcementMode | null; subtitle: ReactNode }) {
  return (
    <>
      <div className="breadcrumbs">
        <Link to={list.to}>{list.label}</Link> / {name}
      </div>
      <PageHeader
        title={
          <>
            {name} <ModeBadge mode={mode} />
          </>
        }
        subtitle={subtitle}
      />
    </>
  );
}
