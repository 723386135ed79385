/** Reporters: turn a command's report into text for a terminal or a machine. Each command has its literal map. */
export interface Reporter<R> {
  render(report: R, options: { color: boolean }): string;
}
