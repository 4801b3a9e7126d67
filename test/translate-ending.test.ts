// The end of a translated script's report: how the script ended (its status,
// and the line of an `exit` of its own shell that was not its last
// command), and divergence notes printed once with every line they concern.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireRootAndNft, withoutTapLoader } from './helpers/netns.ts'
import { exitIsEarly } from '../src/script/translation.ts'

const LEGACYFW = new URL('../bin/legacyfw', import.meta.url).pathname

t.test('which exits are early', async (t) => {
  const text = 'a\nif x; then\n  exit 1\nfi\necho b\n'
  t.ok(exitIsEarly(text, 3), 'a command follows')
  t.notOk(exitIsEarly('a\nexit 0\n\n# done\n', 2), 'only blank lines and comments follow')
  t.notOk(exitIsEarly('case $1 in\n start)\n  exit 0\n  ;;\nesac\n', 3), 'only closing words follow')
  t.ok(exitIsEarly('case $1 in\n start)\n  exit 0\n  ;;\n stop)\n  b\n  ;;\nesac\n', 3), 'another branch follows')
})

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  const tmp = mkdtempSync(join(tmpdir(), 'lfw-ending-test-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const translate = (name: string, text: string, ...args: string[]) => {
    const path = join(tmp, name)
    writeFileSync(path, text)
    return spawnSync('env', withoutTapLoader([LEGACYFW, 'translate', '--no-mirror', path, ...args]), { encoding: 'utf8' })
  }
  const reportLines = (stderr: string): string[] => stderr.split('\n').filter((l) => /^script[:\d,]*: /.test(l))

  t.test('an early exit names its line; subshells and other shells do not count', async (t) => {
    const r = translate(
      'early.sh',
      `ipchains -A input -j ACCEPT
( exit 3 )
x=$(exit 4)
bash -c 'exit 5'
if [ -z "$1" ]; then
  echo "usage: $0 start"
  exit 1
fi
ipchains -A input -j DENY
`,
    )
    t.equal(r.status, 1)
    t.same(reportLines(r.stderr), ['script:7: the script exited with status 1'])
    t.match(r.stdout, '-j ACCEPT', 'the rules before the exit are kept')
  })

  t.test('a script that runs to its end, or exits on its last line', async (t) => {
    t.same(reportLines(translate('end.sh', 'ipchains -A input -j ACCEPT\n').stderr), ['script: the script ended with status 0'])
    t.same(reportLines(translate('last.sh', 'ipchains -A input -j ACCEPT\nexit 0\n# end\n').stderr), ['script: the script ended with status 0'])
    t.same(reportLines(translate('fail.sh', 'set -e\nfalse\nipchains -A input -j ACCEPT\n').stderr), ['script: the script ended with status 1'])
  })

  t.test('a divergence note that repeats is printed once, with its lines', async (t) => {
    const r = translate(
      'notes.sh',
      `ipfwadm -I -a accept -V 10.0.0.1 -S 1.2.3.4
ipfwadm -I -a accept -V 10.0.0.1 -S 1.2.3.5
true
ipfwadm -I -a accept -V 10.0.0.1 -S 1.2.3.6
`,
    )
    const notes = reportLines(r.stderr).filter((l) => l.includes('divergence: -V 10.0.0.1'))
    t.equal(notes.length, 1, 'once')
    t.match(notes[0], /^script:1,2,4: divergence: -V 10\.0\.0\.1 matches/, 'with every line it concerns')
  })
}
