/** Small labels with colour that carry meaning at a glance: severity, mode, phase, check status, node state. */
import type { EnforcementMode, Severity } from '../api/types.ts';

export function SeverityBadge({ severity }: { severity: Severity | string }) {
  return <span className={`badge severity-${severity}`}>{severity}</span>;
}

const modeHints: Record<EnforcementMode, string> = {
  learn: 'learns only, never alerts',
  alert: 'alerts on anything the profile does not allow',
  prevent: 'kills processes that deviate',
  stop: 'stops the container on a deviation',
};

export function ModeBadge({ mode }: { mode: EnforcementMode | null | undefined }) {
  if (!mode) return <span className="badge mode-none" title="no profile yet">no profile</span>;
  return (
    <span className={`badge mode-${mode}`} title={modeHints[mode]}>
      {mode}
    </span>
  );
}

export function PhaseBadge({ phase }: { phase: string | null | undefined }) {
  if (!phase) return null;
  return <span className={`badge phase-${phase}`}>{phase}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function OnlineDot({ online, label }: { online: boolean; label?: string }) {
  return (
    <span className={`dot ${online ? 'dot-online' : 'dot-offline'}`} title={online ? 'online' : 'offline'}>
      {label}
    </span>
  );
}
