/** The formats `nomine probe` writes, as a literal map: its keys type the --format flag and its help text. */
import { probeJsonReporter } from './probe-json.ts';
import { probeSarifReporter } from './probe-sarif.ts';
import { probeTableReporter } from './probe-table.ts';

export const probeReporters = { table: probeTableReporter, json: probeJsonReporter, sarif: probeSarifReporter };
export type ProbeFormat = keyof typeof probeReporters;
