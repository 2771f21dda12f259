// CLI dispatcher: top-level flags, then the named command's module is imported
// and handed the rest of argv. Errors become one line on stderr and an exit code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import pc from 'picocolors';
import { COMMANDS } from './commands.js';
import { ErrorCodes, IotguardError, isIotguardError } from '../core/model/errors.js';

export interface CommandModule {
  /** Runs the command with its own argv (after the command name); resolves to an exit code. */
  run(argv: string[]): Promise<number>;
}

export function version(): string {
  const pkgPath = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
}

function topHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `${pc.bold('iotguard')} ${version()} — what can attack each IoT device on your network, and what to do about it`,
    '',
    `Usage: iotguard <command> [options]      iotguard <command> --help`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Every command takes --json (one JSON document on stdout). Exit codes: 0 ran, 1 could not do its job, 2 bad usage.',
  ].join('\n');
}

export function reportError(e: unknown, json: boolean): number {
  if (e instanceof CommanderError) {
    // commander already printed its message for usage errors and help
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return e.exitCode === 0 ? 0 : 2;
  }
  const err = isIotguardError(e)
    ? e
    : new IotguardError(ErrorCodes.INTERNAL, e instanceof Error ? e.message : String(e), { cause: e });
  if (json) process.stderr.write(`${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`);
  else process.stderr.write(`${pc.red('iotguard:')} ${err.message} ${pc.dim(`(${err.code})`)}\n`);
  if (err.code === ErrorCodes.INTERNAL && process.env.IOTGUARD_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
  return err.exitCode;
}

// A reader that goes away (`iotguard lab status | head -1`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${topHelp()}\n`);
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const known = COMMANDS.find((c) => c.name === first);
  if (!known) {
    process.stderr.write(`${pc.red('iotguard:')} unknown command '${first}'. Run 'iotguard --help' for the list.\n`);
    return 2;
  }
  let mod: CommandModule;
  try {
    mod = (await import(`./commands/${known.name}.js`)) as CommandModule;
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${known.name}.js`)) {
      process.stderr.write(`${pc.red('iotguard:')} '${known.name}' is not built into this version yet.\n`);
      return 1;
    }
    throw e;
  }
  try {
    return await mod.run(rest);
  } catch (e) {
    return reportError(e, rest.includes('--json'));
  }
}
