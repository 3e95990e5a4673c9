// One CLI command: its name, one line of help, its usage, and what it does with its arguments.
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Returns the process exit code: 0 success, 1 the check failed, 2 usage error. */
  run(args: readonly string[]): Promise<number>;
}

/** A usage error: exit code 2 with the command's usage. */
export function usageError(command: Pick<Command, 'name' | 'usage'>, message: string): number {
  process.stderr.write(`quantstudio ${command.name}: ${message}\nusage: ${command.usage}\n`);
  return 2;
}
