/** Integer flags: a commander parser that names the flag and its range in the usage error. */
import { InvalidArgumentError } from 'commander';

export function positiveInteger(name: string, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return parsed;
  };
}
