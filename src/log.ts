// The log, as runc keeps it: to stderr, or to --log FILE; in text
// (logfmt-like, as logrus writes) or json lines ({"level","msg","time"}),
// which is what containerd's runc shim reads back after a failure.
import { appendFileSync } from 'node:fs';
import { stderr } from './output';
import { isoNow } from './util/time';

export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
}

let options: LogOptions = { format: 'text', debug: false };

export function configureLog(opts: LogOptions): void {
  options = opts;
}

/**
 * --log, --log-format and --debug, read from the raw command line before
 * anything else is parsed, so that an error of the command line itself (an
 * unknown flag, a missing id) reaches the log too: containerd's shim reports
 * a failure with the last error line of that file. The last occurrence of a
 * flag counts, as with runc; "--" ends the flags. A --log-format other than
 * json is text (the command line's own check then says what is wrong).
 */
export function logOptionsFromArgv(argv: readonly string[]): LogOptions {
  const opts: LogOptions = { format: 'text', debug: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break;
    // Plain string tests: a regular expression's first use compiles it, about 0.2 ms of every command.
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (name !== 'log' && name !== 'log-format' && name !== 'debug') continue;
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name === 'debug') {
      opts.debug = inline === undefined || inline === 'true';
      continue;
    }
    const value = inline ?? argv[i + 1];
    if (inline === undefined) i++;
    if (value === undefined) continue;
    if (name === 'log') opts.file = value === '' ? undefined : value;
    else opts.format = value === 'json' ? 'json' : 'text';
  }
  return opts;
}

function quote(s: string): string {
  // logrus quotes any value with characters beyond these; so do we.
  return /^[A-Za-z0-9\-._/@^+]+$/.test(s) ? s : JSON.stringify(s);
}

export function log(level: Level, msg: string): void {
  if (level === 'debug' && !options.debug) return;
  const time = isoNow();
  const line =
    options.format === 'json'
      ? JSON.stringify({ level, msg, time }) + '\n'
      : `time=${quote(time)} level=${level} msg=${quote(msg)}\n`;
  if (options.file) {
    try {
      appendFileSync(options.file, line);
      return;
    } catch {
      // an unwritable log must not hide the message
    }
  }
  stderr(line);
}

export const debug = (msg: string): void => log('debug', msg);
export const warn = (msg: string): void => log('warning', msg);

/**
 * Errors go to the log (for callers that read it) and to stderr, as runc
 * does: with --log, the file gets the log line, stderr the message alone.
 */
export function reportError(msg: string): void {
  if (options.file) log('error', msg);
  stderr(`tsrun: ${msg}\n`);
}
