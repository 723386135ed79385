/** The event types, as a list for flags and checks (the union lives in event.ts). */
import type { EventType } from './event.ts';

export const eventTypes = ['exec', 'exit', 'connect', 'accept', 'listen', 'file-write', 'cpu-sample', 'syscalls'] as const satisfies readonly EventType[];
export type { EventType };
