// Edits inside a folded run (src/translate/nft/fold.ts) on the real kernel:
// inserting and deleting a rule in the middle of a run of 300 changes map
// elements and one records rule, never the fold rule or the other rules
// (watched with `nft monitor`), and the counters of untouched rules keep
// what they counted. Plus ipfwadm accounting: a folded run of disjoint
// networks counts as the linear rules do, and an overlapping member stays
// out of the fold (every matching accounting rule counts).
import { spawn } from 'node:child_process'
import t from 'tap'
import { inNetns, pingLoopback, requireRootAndNft, withNetns } from './helpers/netns.ts'

const IPCHAINS = new URL('../bin/ipchains', import.meta.url).pathname
const IPCHAINS_RESTORE = new URL('../bin/ipchains-restore', import.meta.url).pathname
const IPFWADM = new URL('../bin/ipfwadm', import.meta.url).pathname

const sh = (ns: string, argv: readonly string[], input?: string): string => {
  const r = inNetns(ns, argv, input)
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** The nft events a command causes in the namespace. */
const eventsOf = async (ns: string, argv: readonly string[]): Promise<string[]> => {
  const monitor = spawn('ip', ['netns', 'exec', ns, 'nft', 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] })
  let out = ''
  monitor.stdout.on('data', (d: Buffer) => (out += d.toString()))
  await new Promise((resolve) => setTimeout(resolve, 300))
  sh(ns, argv)
  await new Promise((resolve) => setTimeout(resolve, 300))
  monitor.kill('SIGTERM')
  await new Promise((resolve) => monitor.on('close', resolve))
  return out.split('\n').filter((l) => l !== '' && !l.startsWith('# '))
}

/** `ipchains -L input -n -v -x` rules as "pkts source". */
const inputCounts = (ns: string): string[] =>
  sh(ns, [IPCHAINS, '-L', 'input', '-n', '-v', '-x'])
    .split('\n')
    .slice(2)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const w = l.trim().split(/\s+/)
      return `${w[0]} ${w[8]}`
    })

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.test('ipchains: an edit inside a folded run changes elements, counters stay', async (t) => {
    await withNetns('fold', async (ns) => {
      sh(ns, ['ip', 'link', 'set', 'lo', 'up'])
      const nets = Array.from({ length: 300 }, (_, i) => (i === 200 ? '127.0.0.0/255.0.0.0' : `10.${i >> 4}.${(i & 15) * 16}.0/255.255.240.0`))
      const saved = [':input ACCEPT', ':forward ACCEPT', ':output ACCEPT', ...nets.map((n) => `-A input -s ${n} -d 0.0.0.0/0.0.0.0 -j ACCEPT`)]
      sh(ns, [IPCHAINS_RESTORE], `${saved.join('\n')}\n`)
      const table = sh(ns, ['nft', 'list', 'chain', 'ip', 'legacyfw_ipchains', 'input_rules'])
      t.match(table, /counter name ip saddr map @input_rules\/f1 accept/, 'the run is one rule')
      pingLoopback(ns, 5)
      const before = inputCounts(ns)
      t.equal(before[200], '10 127.0.0.0/8', 'the 127/8 rule counted the requests and the replies')
      t.equal(before.filter((c) => !c.startsWith('0 ')).length, 1, 'no other rule counted')

      const inserted = await eventsOf(ns, [IPCHAINS, '-I', 'input', '100', '-s', '11.0.0.1', '-j', 'ACCEPT'])
      t.notOk(
        inserted.some((e) => /^delete rule|map @input_rules\/f1/.test(e)),
        'no rule deleted, the fold rule not sent again',
      )
      t.ok(
        inserted.some((e) => /^add element ip legacyfw_ipchains input_rules\/f1 \{ 11\.0\.0\.1 : "/.test(e)),
        'one element added',
      )
      t.equal(inserted.filter((e) => /^(add|insert) rule/.test(e)).length, 1, 'one records rule added')
      const deleted = await eventsOf(ns, [IPCHAINS, '-D', 'input', '20'])
      t.ok(
        deleted.some((e) => /^delete element ip legacyfw_ipchains input_rules\/f1/.test(e)),
        'its element deleted',
      )
      t.notOk(
        deleted.some((e) => /^add rule|map @input_rules\/f1/.test(e)),
        'no rule added, the fold rule not sent again',
      )

      const after = inputCounts(ns)
      t.equal(after.length, 300, 'one rule in, one out')
      t.equal(after[100 - 1 - 1], '0 11.0.0.1', 'the inserted rule sits where it was put (one rule before it deleted)')
      t.equal(after[200], '10 127.0.0.0/8', 'the untouched rule kept its counts')
      pingLoopback(ns, 1)
      t.equal(inputCounts(ns)[200], '12 127.0.0.0/8', 'and counts on')
    })
  })

  t.test('ipfwadm accounting: a fold counts every matching rule', async (t) => {
    await withNetns('foldacct', async (ns) => {
      sh(ns, ['ip', 'link', 'set', 'lo', 'up'])
      // Disjoint /24s (one of them 127.0.0.0/24), then 127.0.0.0/8, which overlaps it.
      for (let i = 0; i < 12; i++) sh(ns, [IPFWADM, '-A', 'in', '-a', '-S', i === 6 ? '127.0.0.0/24' : `10.0.${i}.0/24`])
      sh(ns, [IPFWADM, '-A', 'in', '-a', '-S', '127.0.0.0/8'])
      sh(ns, [IPFWADM, '-A', 'in', '-a', '-S', '10.9.9.9'])
      sh(ns, [IPFWADM, '-A', 'in', '-a', '-S', '10.9.9.10'])
      // Re-rendered: the read-free appends left one linear rule each.
      sh(ns, [IPFWADM, '-I', '-p', 'deny'])
      sh(ns, [IPFWADM, '-I', '-p', 'accept'])
      const table = sh(ns, ['nft', 'list', 'chain', 'ip', 'legacyfw_ipfwadm', 'acct_in_rules'])
      t.match(table, /counter name ip saddr map @acct_in_rules\/f1 comment/, 'the disjoint run is folded')
      t.match(table, /ip saddr 127\.0\.0\.0\/8 counter name/, 'the overlapping rule stays linear')
      pingLoopback(ns, 3)
      const counts = sh(ns, [IPFWADM, '-A', '-l', '-n', '-x'])
        .split('\n')
        .slice(2)
        .filter((l) => l.trim() !== '')
        .map((l) => l.trim().split(/\s+/)[0])
      t.same(counts, ['0', '0', '0', '0', '0', '0', '6', '0', '0', '0', '0', '0', '6', '0', '0'], 'both matching rules counted each packet')
    })
  })
}
