/** The formats `nomine audit` writes, as a literal map: its keys type the --format flag and its help text. */
import { auditJsonReporter } from './audit-json.ts';
import { auditSarifReporter } from './audit-sarif.ts';
import { auditTableReporter } from './audit-table.ts';

export const auditReporters = { table: auditTableReporter, json: auditJsonReporter, sarif: auditSarifReporter };
export type AuditFormat = keyof typeof auditReporters;
