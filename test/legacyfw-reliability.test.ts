// The whole-script modes under load, faults and bad input (docs/reliability.md):
// concurrent runs and live commands lose no rule, a killed run leaves no
// process or directory behind, background commands are all served, and
// every bad input to legacyfw itself gets one line and a documented status.
import t from 'tap'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteNetns, inNetns, inNetnsAsync, newNetns, requireRootAndNft, withoutTapLoader } from './helpers/netns.ts'

const BIN = new URL('../bin/', import.meta.url).pathname
const LEGACYFW = join(BIN, 'legacyfw')
const IPCHAINS = join(BIN, 'ipchains')
const RUN_DIRS = '/run/legacyfw'
const STACK_TRACE = /\n\s+at .*:\d+\)?\n|node:internal\/|\bat [^\n]*\.(?:c?js|ts):\d+/

const REPETITIONS = Number(process.env['LEGACYFW_STRESS_REPS'] ?? 20)
const KILLS = Number(process.env['LEGACYFW_KILLS'] ?? 20)

/** A small seeded generator (mulberry32): the same moments every run, printed on failure. */
const random =
  (seed: number): (() => number) =>
  () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }

const listedSources = (ns: string): string[] =>
  inNetns(ns, [IPCHAINS, '-L', 'input', '-n'])
    .stdout.split('\n')
    .slice(2)
    .filter((l) => l !== '')

/** Processes whose command line mentions `token`. */
const processesWith = (token: string): string[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .flatMap((p) => {
      try {
        const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ')
        return cmdline.includes(token) ? [`${p}: ${cmdline}`] : []
      } catch {
        return []
      }
    })

const waitUntil = async (done: () => boolean, ms: number): Promise<boolean> => {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) if (done()) return true
  return done()
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('close', (code) => resolve(code))))

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  const tmp = mkdtempSync(join(tmpdir(), 'lfw-reliability-'))
  // legacyfw translate builds its own namespaces; it runs from this stand-in host all the same.
  const host = newNetns('reliability')
  t.teardown(() => {
    rmSync(tmp, { recursive: true, force: true })
    deleteNetns(host)
  })
  const scriptOf = (name: string, text: string): string => {
    const path = join(tmp, name)
    writeFileSync(path, text)
    return path
  }

  t.test(`4 runs of 100 rules and 4 loops of 100 live commands keep all 800 rules (${REPETITIONS} repetitions)`, async (t) => {
    const runs = [1, 2, 3, 4].map((r) =>
      scriptOf(`run-${r}.sh`, Array.from({ length: 100 }, (_, i) => `ipchains -A input -s 10.${r}.0.${i} -j DENY\n`).join('')),
    )
    const loop = (l: number): string[] => ['bash', '-c', `for i in $(seq 0 99); do ${IPCHAINS} -A input -s 172.16.${l}.$i -j DENY || exit 1; done`]
    for (let rep = 1; rep <= REPETITIONS; rep++) {
      const ns = newNetns('concurrent')
      try {
        const all = await Promise.all([
          ...runs.map((script) => inNetnsAsync(ns, [LEGACYFW, 'run', script])),
          ...[1, 2, 3, 4].map((l) => inNetnsAsync(ns, loop(l))),
        ])
        const failed = all.filter((r) => r.status !== 0)
        const rules = listedSources(ns)
        if (failed.length || rules.length !== 800 || new Set(rules).size !== 800) {
          t.fail(`repetition ${rep}: ${rules.length} rules, ${new Set(rules).size} distinct; failures: ${failed.map((f) => f.out).join('; ')}`)
          return
        }
      } finally {
        deleteNetns(ns)
      }
    }
    t.pass(`${REPETITIONS} repetitions: 800 rules each, every command exited 0`)
  })

  t.test(`legacyfw run killed with SIGKILL at ${KILLS} moments leaves no process or directory behind`, async (t) => {
    const next = random(14)
    const ns = newNetns('kill')
    try {
      for (let i = 0; i < KILLS; i++) {
        // A fresh name each time: its processes are found by it.
        const script = scriptOf(
          `killed-${i}.sh`,
          'for i in $(seq 1 60); do ipchains -A input -s 10.9.0.$i -j DENY; (ipchains -A output -d 10.8.0.$i -j DENY &); done\nsleep 0.3\n',
        )
        const run = spawn('ip', ['netns', 'exec', ns, ...withoutTapLoader([LEGACYFW, 'run', script])], { stdio: ['ignore', 'ignore', 'pipe'] })
        let stderr = ''
        run.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
        const moment = Math.floor(next() * 1200)
        await new Promise((r) => setTimeout(r, moment))
        // ip netns exec execs legacyfw: the pid is the run's.
        run.kill('SIGKILL')
        await exited(run)
        const gone = await waitUntil(() => processesWith(script).length === 0, 10_000)
        t.ok(gone, `killed after ${moment} ms: no process of the script left ${processesWith(script).join('; ')}`)
        // The wrapper removes the directory of a killed run; a run killed before it started its wrapper leaves it to the next run's sweep.
        const ownDirs = () => (existsSync(RUN_DIRS) ? readdirSync(RUN_DIRS).filter((d) => d.startsWith(`run-${run.pid}-`)) : [])
        if (!(await waitUntil(() => ownDirs().length === 0, 5000))) inNetns(ns, [LEGACYFW, 'run', scriptOf('empty.sh', ':\n')])
        t.same(ownDirs(), [], `killed after ${moment} ms: its directory is gone`)
        t.notMatch(stderr, STACK_TRACE, 'no stack trace')
      }
    } finally {
      deleteNetns(ns)
    }
  })

  t.test('a killed translate leaves no process, and its directory is swept by the next', async (t) => {
    const script = scriptOf('endless.sh', 'ipchains -A input -j DENY\nwhile :; do sleep 0.1; done\n')
    const ns = newNetns('killtr')
    t.teardown(() => deleteNetns(ns))
    const translate = spawn('ip', ['netns', 'exec', ns, ...withoutTapLoader([LEGACYFW, 'translate', '--no-mirror', script])], { stdio: 'ignore' })
    await new Promise((r) => setTimeout(r, 1500))
    translate.kill('SIGKILL')
    await exited(translate)
    const dirs = () => (existsSync(RUN_DIRS) ? readdirSync(RUN_DIRS).filter((d) => d.startsWith(`script-${translate.pid}-`)) : [])
    t.ok(await waitUntil(() => processesWith(`script-${translate.pid}-`).length === 0, 5000), 'the sandbox ended with legacyfw')
    const again = await inNetnsAsync(ns, [LEGACYFW, 'translate', '--no-mirror', scriptOf('one.sh', 'ipchains -A input -j DENY\n')])
    t.equal(again.status, 0, 'the next translation works')
    t.same(dirs(), [], 'and swept the killed one away')
  })

  t.test('50 background commands without wait: all served, in run and in translate', async (t) => {
    const script = scriptOf('background.sh', 'for i in $(seq 1 50); do ipchains -A input -s 10.5.0.$i -j DENY & done\n')
    const ns = newNetns('background')
    try {
      const run = inNetns(ns, [LEGACYFW, 'run', script])
      t.equal(run.status, 0, run.stderr)
      t.equal(listedSources(ns).length, 50, 'run: 50 rules')
      t.match(run.stderr, /still ran when it ended; they were served/, 'run says so')
      const tr = inNetns(ns, [LEGACYFW, 'translate', '--no-mirror', script])
      t.equal(tr.status, 0, tr.stderr)
      // Each rule's record, whether the rule is linear or folded into a map (nft/fold.ts).
      t.equal(tr.stdout.match(/comment "-s 10\.5\.0\.\d+ -j DENY"/g)?.length, 50, 'translate: 50 rules')
      t.match(tr.stderr, /^script: processes it started in the background still ran when it ended/m, 'the report says so')
    } finally {
      deleteNetns(ns)
    }
  })

  t.test('bad input to legacyfw: one line, a documented status, nothing run', async (t) => {
    const good = scriptOf('good.sh', 'ipchains -A input -s 10.0.0.0/8 -j DENY\n')
    const cases: [string[], number, RegExp][] = [
      [['translate', '/nonexistent'], 2, /^legacyfw translate: \/nonexistent: No such file or directory\n$/],
      [['translate', '.'], 2, /^legacyfw translate: \.: Is a directory\n$/],
      [['translate', '/dev/zero'], 2, /^legacyfw translate: \/dev\/zero: not a regular file\n$/],
      [['translate', '/dev/null'], 2, /not a regular file\n$/],
      [['translate', tmp], 2, /Is a directory\n$/],
      [['translate', '--file', '/x=/etc/hostname', good], 2, /^legacyfw translate: --file \/x=\/etc\/hostname: PATH=FILE expected/],
      [['translate', '--file', '/etc/x=/nonexistent', good], 2, /^legacyfw translate: \/nonexistent: No such file or directory\n$/],
      [['translate', '--file', 'relative=x', good], 2, /PATH=FILE expected/],
      [['translate', '--iface', 'eth0', good], 2, /^legacyfw translate: --iface eth0: NAME=ADDR\/LEN expected/],
      [['translate', '--iface', 'eth0=1.2.3.400/24', good], 2, /NAME=ADDR\/LEN expected/],
      [['translate', '--iface', 'eth0=1.2.3.4/33', good], 2, /NAME=ADDR\/LEN expected/],
      [['translate', '--check', '/nonexistent', good], 2, /^legacyfw translate: \/nonexistent: No such file or directory\n$/],
      [['translate', '--check', tmp, good], 2, /Is a directory\n$/],
      [['translate', '--timeout', '0', good], 2, /^legacyfw translate: --timeout 0: a whole number of seconds/],
      [['translate', '--timeout', 'soon', good], 2, /--timeout soon: a whole number/],
      [
        ['translate', '--from', 'iptables-save', good],
        2,
        /^legacyfw translate: --from iptables-save: unknown saved format \(known: ipchains-save\)\n$/,
      ],
      [['translate', '--from', 'ipchains-save', '/dev/zero'], 2, /\/dev\/zero: not a regular file/],
      [['translate', '--bogus', good], 2, /^legacyfw translate: unknown option --bogus/],
      [['translate'], 2, /^legacyfw translate: no SCRIPT given/],
      [['run', '/nonexistent'], 2, /^legacyfw run: \/nonexistent: No such file or directory\n$/],
      [['run', '/dev/zero'], 2, /^legacyfw run: \/dev\/zero: not a regular file\n$/],
      [['run', '.'], 2, /^legacyfw run: \.: Is a directory\n$/],
      [['bogus'], 2, /^legacyfw: unknown command "bogus"/],
    ]
    const ns = newNetns('badinput')
    try {
      const before = inNetns(ns, ['nft', 'list', 'ruleset']).stdout
      for (const [args, status, message] of cases) {
        const r = inNetns(ns, [LEGACYFW, ...args])
        t.equal(r.status, status, `legacyfw ${args.join(' ')}: exit ${status}`)
        t.match(r.stderr, message, `legacyfw ${args.join(' ')}: its message`)
        t.notMatch(r.stderr, STACK_TRACE, `legacyfw ${args.join(' ')}: no stack trace`)
      }
      t.equal(inNetns(ns, ['nft', 'list', 'ruleset']).stdout, before, 'nothing changed in the kernel')
    } finally {
      deleteNetns(ns)
    }
  })

  t.test('an oversized script is refused; memory stays bounded', async (t) => {
    const big = join(tmp, 'big.sh')
    writeFileSync(big, Buffer.alloc(16 * 1024 * 1024 + 1, 0x23))
    const r = inNetns(host, [LEGACYFW, 'translate', big])
    t.equal(r.status, 2)
    t.match(r.stderr, /^legacyfw translate: \S+big\.sh: too large \(16777217 bytes; at most 16777216\)\n$/)
  })

  t.test('a script that never ends: stopped at --timeout, with what it set up so far', async (t) => {
    const script = scriptOf('forever.sh', 'ipchains -A input -s 10.7.0.0/16 -j DENY\nwhile :; do :; done\n')
    const started = Date.now()
    const r = inNetns(host, [LEGACYFW, 'translate', '--no-mirror', '--timeout', '2', script])
    t.equal(r.status, 124, 'exit 124')
    t.ok(Date.now() - started < 10_000, 'stopped soon after 2 s')
    t.match(r.stderr, /legacyfw translate: \S+forever\.sh: stopped after 2 s \(--timeout\); the tables above are what it had set up by then\n$/)
    t.match(r.stdout, /ip saddr 10\.7\.0\.0\/16 counter name "r1" drop/, 'the state so far')
    t.notMatch(r.stderr, /sandbox/, 'the sandbox is not blamed')
  })

  t.test('--check ignores the script name; a difference says where', async (t) => {
    const translate = (...args: string[]) => inNetns(host, [LEGACYFW, 'translate', '--no-mirror', ...args])
    const expected = join(tmp, 'expected.nft')
    writeFileSync(expected, translate(scriptOf('one.sh', 'ipchains -A input -s 10.0.0.0/8 -j DENY\n')).stdout)
    const renamed = scriptOf('renamed.sh', 'ipchains -A input -s 10.0.0.0/8 -j DENY\n')
    t.equal(translate('--check', expected, renamed).status, 0, 'same translation, other name')
    const differs = translate('--check', expected, scriptOf('other.sh', 'ipchains -A input -s 10.0.0.0/9 -j DENY\n'))
    t.equal(differs.status, 1)
    t.match(differs.stderr, /the translation differs from/)
  })
}
