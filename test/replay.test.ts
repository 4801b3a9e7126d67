// The golden fixtures again, against the real kernel: every command runs
// through bin/ in a namespace of its own, with the fixture /etc files bound
// over the real ones, and must print exactly the same transcript. Each
// .nft golden must also load with nft -c.
import t from 'tap'
import { join } from 'node:path'
import { type CaseCommand, FIXTURES, GOLDEN_TOOLS, caseNames, readCase, transcriptEntry } from './helpers/golden.ts'
import { inNetns, requireRootAndNft, withNetns } from './helpers/netns.ts'
import { FIXTURE_ETC } from './helpers/sys.ts'
import { readFileSync } from 'node:fs'

const BIN = new URL('../bin/', import.meta.url).pathname

// A new session whose controlling terminal is a pty at which argv[1] is
// typed (then end-of-file); the command keeps its own stdin, stdout, stderr.
const TYPED_AT_TTY = `
import fcntl, os, sys, termios
m, s = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
    os.set_inheritable(s, True)
    os.execvp(sys.argv[2], sys.argv[2:])
os.close(s)
os.write(m, sys.argv[1].encode() + b"\\x04")
while True:
    try:
        if not os.read(m, 1024): break
    except OSError:
        break
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`

// Runs a case command with the fixture /etc files mounted, stdin on a pty if
// asked, and a controlling terminal only if the case types answers at one.
const wrapper = (cmd: CaseCommand): string[] => {
  const mounts = FIXTURE_ETC.map((f) => `mount --bind ${join(FIXTURES, 'etc', f)} /etc/${f}`).join(' && ')
  const session = cmd.ttyLines ? ['python3', '-c', TYPED_AT_TTY, cmd.ttyLines.map((l) => `${l}\n`).join('')] : ['setsid', '-w']
  const exec = cmd.tty ? ['python3', '-c', 'import pty,subprocess,sys; m,s=pty.openpty(); sys.exit(subprocess.call(sys.argv[1:], stdin=s))'] : []
  const [program, ...args] = cmd.argv
  return ['sh', '-c', `${mounts} && exec "$@"`, 'sh', ...session, ...exec, join(BIN, program ?? ''), ...args]
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else
  for (const tool of GOLDEN_TOOLS)
    for (const name of caseNames(tool))
      t.test(`replay ${tool}/${name}`, async (t) => {
        await withNetns('replay', (ns) => {
          let transcript = ''
          for (const cmd of readCase(tool, name)) {
            const r = inNetns(ns, wrapper(cmd), cmd.stdin)
            transcript += transcriptEntry(cmd.line, r.stdout, r.stderr, r.status ?? 1)
          }
          t.equal(transcript, readFileSync(join(FIXTURES, tool, `${name}.out`), 'utf8'), `${tool}/${name}.out`)
          const table = readFileSync(join(FIXTURES, tool, `${name}.nft`), 'utf8')
          if (table) {
            const check = inNetns(ns, ['nft', '-c', '-f', '-'], table)
            t.equal(check.stderr, '', `${tool}/${name}.nft loads with nft -c`)
          }
        })
      })
