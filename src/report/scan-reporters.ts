/** The formats `nomine scan` writes, as a literal map: its keys type the --format flag and its help text. */
import { scanJsonReporter } from './scan-json.ts';
import { scanSarifReporter } from './scan-sarif.ts';
import { scanTableReporter } from './scan-table.ts';

export const scanReporters = { table: scanTableReporter, json: scanJsonReporter, sarif: scanSarifReporter };
export type ScanFormat = keyof typeof scanReporters;
