// The quantstudio CLI: parses the command line and dispatches to one command module each.
// Commands are a table: adding one is adding a row.
import { benchmarkCommand } from './commands/benchmark';
import { doctorCommand } from './commands/doctor';
import { generateCommand } from './commands/generate';
import { perplexityCommand } from './commands/perplexity';
import { quantizeCommand } from './commands/quantize';
import { recommendCommand } from './commands/recommend';
import { validateCommand } from './commands/validate';
import { estimateCommand } from './estimate';
import type { Command } from './command';
import { packageVersion } from './version';

const COMMANDS: ReadonlyArray<Command> = [
  validateCommand,
  estimateCommand,
  recommendCommand,
  quantizeCommand,
  perplexityCommand,
  generateCommand,
  benchmarkCommand,
  doctorCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n      ${c.usage}`);
  return `usage: quantstudio <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'quantstudio <command> --help' shows one command's usage; --version the version.\n`;
}

const HELP = new Set(['--help', '-h']);

/** `quantstudio <command> --help`: what the command does and how to call it, on stdout. */
function commandHelp(command: Command): string {
  return `quantstudio ${command.name}: ${command.summary}\nusage: ${command.usage}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`quantstudio ${packageVersion()}\n`);
    return 0;
  }
  if (name === 'help' && args[0] !== undefined) return main([args[0], '--help']);
  if (name === undefined || HELP.has(name) || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`quantstudio: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (args.some((a) => HELP.has(a))) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  return command.run(args);
}
