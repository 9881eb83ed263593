// Entry point: npm run conformance -- --runtime PATH [--filter REGEX] [--reference PATH]
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { allCases } from './cases';
import { validateCases } from './lib/case';
import { runSuite } from './lib/runner';

async function main(): Promise<number> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('conformance')
    .usage('$0 --runtime PATH [--filter REGEX] [--reference PATH]')
    .option('runtime', { type: 'string', describe: 'runtime binary under test (path, or a name in PATH: runc, crun, tsrun)' })
    .option('reference', { type: 'string', describe: 'reference runtime for differential mode (e.g. runc)' })
    .option('filter', { type: 'string', describe: 'only cases whose id or section matches this regular expression' })
    .option('runtime-name', { type: 'string', describe: 'name used to pick known-failures/<name>.json (default: binary basename)' })
    .option('reference-name', { type: 'string', describe: 'the same for the reference' })
    .option('list', { type: 'boolean', default: false, describe: 'list the cases (id, section, requirement) and exit' })
    .option('keep', { type: 'boolean', default: false, describe: 'keep the run directory (bundles, logs) for debugging' })
    .option('command-timeout', { type: 'number', default: 30, describe: 'seconds before a runtime command is killed' })
    .option('cache-dir', { type: 'string', describe: 'where the probe and rootfs are built (default: ~/.cache/tsrun-conformance)' })
    .strict()
    .help()
    .parseAsync();

  const problems = validateCases(allCases);
  if (problems.length) {
    process.stderr.write(`invalid case definitions:\n${problems.join('\n')}\n`);
    return 2;
  }
  if (argv.list) {
    const re = argv.filter ? new RegExp(argv.filter) : null;
    for (const c of allCases) {
      if (re && !re.test(c.id) && !re.test(c.section)) continue;
      process.stdout.write(`${c.id}\t${c.section}\t${c.requirement}\n`);
    }
    return 0;
  }
  if (!argv.runtime) {
    process.stderr.write('conformance: --runtime PATH is required\n');
    return 2;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    process.stderr.write('conformance: must run as root (it creates containers)\n');
    return 2;
  }
  const res = await runSuite({
    runtime: argv.runtime,
    runtimeName: argv['runtime-name'],
    reference: argv.reference,
    referenceName: argv['reference-name'],
    filter: argv.filter,
    cases: allCases,
    write: (s) => process.stdout.write(s),
    keep: argv.keep,
    commandTimeoutMs: argv['command-timeout'] * 1000,
    cacheDir: argv['cache-dir'],
  });
  return res.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`conformance: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
