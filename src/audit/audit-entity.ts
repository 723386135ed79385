/**
 * Audit entities: what collectors hand to evaluation. An entity is one thing checks are judged against (the
 * daemon, a container, an image, one workload document, a kubelet config) with its facts and a way to turn a fact
 * path into a place a person can open (file and line, `container web: HostConfig.Privileged`). A collection
 * problem is an entity error: reported as an `error` result, and the run goes on.
 */
import type { Location, Subject } from '../core/finding.ts';
import type { AuditTarget, Facts } from './check-definition.ts';

export interface AuditEntity {
  target: AuditTarget;
  kind: Subject['kind'];
  /** What a person calls it: a container name, `deploy/web.yaml#2 Deployment default/web`. */
  name: string;
  facts: Facts;
  /** Where a fact path lives at its source, when the facts came from a file. */
  locate?: (field: string) => Location | undefined;
}

export interface EntityError {
  /** The target it would have been, when known (a daemon that cannot be reached). */
  target?: AuditTarget;
  kind: Subject['kind'];
  name: string;
  code: string;
  message: string;
  location?: Location;
}

export interface Collection {
  entities: AuditEntity[];
  errors: EntityError[];
  /** Things seen and deliberately not audited (a Service in a manifest), for the report's honesty. */
  skipped: { name: string; reason: string }[];
}

export function emptyCollection(): Collection {
  return { entities: [], errors: [], skipped: [] };
}

export function mergeCollections(...parts: Collection[]): Collection {
  return {
    entities: parts.flatMap((part) => part.entities),
    errors: parts.flatMap((part) => part.errors),
    skipped: parts.flatMap((part) => part.skipped),
  };
}
