// The golden fixtures again, against the real kernel: every command runs
// through bin/ in a namespace of its own, with the fixture /etc files bound
// over the real ones, and must print exactly the same transcript. Each
// .nft golden must also load with nft -c.
import t from 'tap'
import { join } from 'node:path'
import { FIXTURES, caseNames, readCase, transcriptEntry } from './helpers/golden.ts'
import { inNetns, requireRootAndNft, withNetns } from './helpers/netns.ts'
import { FIXTURE_ETC } from './helpers/sys.ts'
import { readFileSync } from 'node:fs'

const BIN = new URL('../bin/', import.meta.url).pathname
const TOOLS = ['ipchains']

// Runs argv with the fixture /etc files mounted, stdin on a pty if asked.
const wrapper = (argv: readonly string[], tty: boolean): string[] => {
  const mounts = FIXTURE_ETC.map((f) => `mount --bind ${join(FIXTURES, 'etc', f)} /etc/${f}`).join(' && ')
  const exec = tty
    ? ['python3', '-c', 'import pty,subprocess,sys; m,s=pty.openpty(); sys.exit(subprocess.call(sys.argv[1:], stdin=s))']
    : []
  const [program, ...args] = argv
  return ['sh', '-c', `${mounts} && exec "$@"`, 'sh', ...exec, join(BIN, program ?? ''), ...args]
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else
  for (const tool of TOOLS)
    for (const name of caseNames(tool))
      t.test(`replay ${tool}/${name}`, async (t) => {
        await withNetns('replay', (ns) => {
          let transcript = ''
          for (const cmd of readCase(tool, name)) {
            const r = inNetns(ns, wrapper(cmd.argv, cmd.tty))
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
