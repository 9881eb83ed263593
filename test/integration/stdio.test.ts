// The container's stdio and file descriptors: process.terminal with a
// console socket (config.md "Process"), run's own terminal, --preserve-fds
// and LISTEN_FDS, and that no other fd of tsrun reaches the container
// (runtime-linux.md "File descriptors").
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { consoleSocket, readAll } from '../helpers/console';
import { env, requireRoot, scratch, tsrunBin, tsrunCmd, tsrunShell, uniqueId } from '../helpers/tsrun';

type Config = Record<string, any>;

if (requireRoot(t)) {
  t.test('terminal with --console-socket', async (t) => {
    const e = env(t);
    const sock = join(scratch(t, 'tsrun-console'), 'console.sock');
    const bundle = e.bundle((c: Config) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 33, width: 111 };
      c.process.args = ['sh', '-c', 'tty; stty size; ls -ln /dev/console; echo done'];
    });
    const id = uniqueId('tty');
    const master = consoleSocket(sock);
    const r = e.tsrun(['create', '--bundle', bundle, '--console-socket', sock, id]);
    t.equal(r.status, 0, r.stderr);
    const fd = await master;
    t.ok(fd > 2, 'the pty master arrived over the socket');
    t.equal(e.tsrun(['start', id]).status, 0);
    const out = readAll(fd, /done/);
    closeSync(fd);
    t.match(out, /^\/dev\/pts\/0\r\n/, 'stdio is a pty of the container devpts');
    t.match(out, /33 111\r\n/, 'consoleSize applied');
    t.match(out, /crw--w----\s+1 0\s+5\s+136,\s+0 .* \/dev\/console/, '/dev/console is the pty');

    const noSocket = e.tsrun(['create', '--bundle', bundle, uniqueId('tty')]);
    t.equal(noSocket.status, 1, 'a terminal without a console socket is refused for create');
    t.match(noSocket.stderr, /process\.terminal: cannot allocate a terminal without --console-socket/);
    const plain = e.bundle();
    const stray = e.tsrun(['create', '--bundle', plain, '--console-socket', sock, uniqueId('tty')]);
    t.equal(stray.status, 1, 'a console socket without a terminal is refused');
    t.match(stray.stderr, /process\.terminal: --console-socket needs process\.terminal to be true/, 'for that reason');
  });

  t.test('run with a terminal of its own proxies it', async (t) => {
    const e = env(t);
    const bundle = e.bundle((c: Config) => {
      c.process.terminal = true;
      c.process.args = ['sh', '-c', 'tty; read x; echo "got:$x"; exit 3'];
    });
    // script(1) gives tsrun a terminal of its own, as an interactive user has.
    const cmd = `${tsrunShell} --root ${e.root} run --bundle ${bundle} ${uniqueId('own')} 2>/dev/null`;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    setTimeout(() => child.stdin.write('hello\n'), 1500);
    const code = await new Promise((r) => child.on('exit', r));
    t.equal(code, 3, 'the container exit status');
    t.match(out, /\/dev\/pts\/0/, 'the container has a pty');
    t.match(out, /got:hello/, 'input reached the container through the proxy');
  });

  t.test('--preserve-fds and LISTEN_FDS pass fds on; nothing else leaks', async (t) => {
    const e = env(t);
    const dir = scratch(t, 'tsrun-fds');
    writeFileSync(join(dir, 'three'), 'fd three\n');
    const bundle = e.bundle((c: Config) => {
      c.process.args = ['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "; echo; cat <&3; echo to-four >&4; echo "$LISTEN_FDS $LISTEN_PID"'];
    });
    const three = openSync(join(dir, 'three'), 'r');
    const four = openSync(join(dir, 'four'), 'w');
    const out = openSync(join(dir, 'out'), 'w');
    const r = spawnSync(tsrunCmd[0], [...tsrunCmd.slice(1), '--root', e.root, 'run', '--preserve-fds', '2', '--bundle', bundle, uniqueId('fds')], {
      stdio: ['ignore', out, 'pipe', three, four],
      encoding: 'utf8',
    });
    [three, four, out].forEach((fd) => closeSync(fd));
    t.equal(r.status, 0, r.stderr);
    const lines = readFileSync(join(dir, 'out'), 'utf8').split('\n');
    t.equal(lines[0], '0 1 2 3 4 5 ', 'only stdio, the two preserved fds (and ls own directory fd)');
    t.equal(lines[1], 'fd three', 'fd 3 readable');
    t.equal(readFileSync(join(dir, 'four'), 'utf8'), 'to-four\n', 'fd 4 writable');
    t.equal(lines[2], ' ', 'no LISTEN_FDS without socket activation');

    const noPreserve = e.sh('ls /proc/self/fd | sort -n | tr "\\n" " "');
    t.equal(noPreserve.stdout, '0 1 2 3 ', 'without --preserve-fds only stdio (and ls own fd)');

    // Socket activation: LISTEN_FDS for the tsrun process itself.
    const act = openSync(join(dir, 'act'), 'w');
    const la = spawnSync('sh', ['-c', `exec env -i PATH="$PATH" LISTEN_PID=$$ LISTEN_FDS=1 ${tsrunBin} --root ${e.root} run --bundle ${bundle} ${uniqueId('listen')} 3<${join(dir, 'three')} 4>${join(dir, 'four')}`], {
      stdio: ['ignore', act, 'pipe'],
      encoding: 'utf8',
    });
    closeSync(act);
    t.equal(la.status, 0, la.stderr);
    const al = readFileSync(join(dir, 'act'), 'utf8').split('\n');
    t.equal(al[0], '0 1 2 3 4 ', 'the LISTEN_FDS fd passed on');
    t.equal(al[al.length - 2], '1 1', 'LISTEN_FDS=1 and LISTEN_PID=1 in the container');

    const closed = e.tsrun(['run', '--preserve-fds', '2000', '--bundle', bundle, uniqueId('bad')]);
    t.equal(closed.status, 1, 'fds that are not open are refused');
    t.match(closed.stderr, /--preserve-fds: fd \d+ is not open/);
  });
}
