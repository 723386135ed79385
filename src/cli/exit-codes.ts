/** Exit codes, the contract with CI pipelines: 0 clean, 1 findings at or above --fail-on, 2 error. */
export const exitCodes = { clean: 0, findings: 1, error: 2 } as const;
