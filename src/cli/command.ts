// Shared scaffolding for a command module: a commander Command that exits by
// throwing (so main() decides the exit code) and common flags.
import { Command } from 'commander';

export function newCommand(name: string, summary: string): Command {
  const cmd = new Command(`iotguard ${name}`)
    .description(summary)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)');
  return cmd;
}

/** Parse argv (without the command name) with a configured command. */
export async function parse(cmd: Command, argv: string[]): Promise<void> {
  await cmd.parseAsync(argv, { from: 'user' });
}
