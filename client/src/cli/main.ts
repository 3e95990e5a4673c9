// The quantstudio CLI: parses the command line and dispatches to one command module each.
export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  process.stderr.write(`quantstudio: unknown command '${command ?? ''}'\n`);
  return 2;
}
