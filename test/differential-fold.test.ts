// Folded runs (src/translate/nft/fold.ts) against the linear rendering, on
// real packets in the namespace lab (helpers/difflab.ts). Generated rule
// sets are built to fold: runs of -s / -d / --dport / --sport rules with
// overlapping networks and ranges, interleaved verdicts, count-only runs
// (no target: every matching rule counts) and a user chain of such a run.
//
// ipchains:
// 1. The rules are loaded one command each: the built-in chains' appends
//    take the read-free path, which adds one linear nft rule per legacy
//    rule (checked: no fold in the built-in chains).
// 2. The packets are sent; the listing's counters are those of the linear
//    rendering, rule by rule.
// 3. A command that re-renders the table (-P, and -P back) folds
//    the runs (checked: maps in both built-in chains); -Z.
// 4. -C is asked for every packet; the same packets are sent again: every
//    -C verdict must predict what the kernel did, every packet must fare as
//    it did linearly, and `ipchains -L -v -x` must show the same counters,
//    rule by rule.
//
// LEGACYFW_DIFF_SEED=<n> reproduces a run.
import { spawnSync } from 'node:child_process'
import t from 'tap'
import {
  ALL_FLAGS,
  type Packet,
  type Rng,
  answered,
  chance,
  describe,
  fieldsKey,
  genPackets,
  int,
  isLocal,
  loadRuleSet,
  missingForDiff,
  mulberry32,
  observed,
  pick,
  run,
  runEach,
  sendAndObserve,
  startLab,
  checkArgs,
} from './helpers/difflab.ts'

const IPCHAINS = new URL('../bin/ipchains', import.meta.url).pathname
const IPCHAINS_SAVE = new URL('../bin/ipchains-save', import.meta.url).pathname
const SEED = Number(process.env['LEGACYFW_DIFF_SEED'] ?? 2002)
const ROUNDS = 2

// Networks the generated packets come from and go to (genPackets), cut so
// that runs overlap: a /16 over /24s, /25s inside /24s, hosts inside them.
const SRC_NETS = [
  '192.168.1.0/25',
  '192.168.1.128/26',
  '192.168.1.0/24',
  '192.168.2.0/24',
  '192.168.2.64/27',
  '172.16.5.0/24',
  '172.16.5.128/25',
  '172.20.0.0/16',
  '172.20.1.0/24',
  '172.20.2.0/23',
  '10.1.0.2',
  '10.2.0.2',
  '192.168.0.0/16',
  '172.16.0.0/12',
]
const DST_NETS = ['10.5.0.0/17', '10.5.128.0/18', '10.5.0.0/16', '10.6.0.0/24', '10.6.1.0/24', '10.6.0.0/22', '10.6.2.0/23', '10.3.0.2', '10.4.0.2']
const PORTS = ['21', '22:25', '53', '79:80', '80', '110', '443', '1023:1024', '6000:6010', '8000', '0:79', '1024:']
const VERDICTS = ['ACCEPT', 'DENY', 'REJECT'] as const

/** Up to n random picks, no two alike. */
const some = <T>(r: Rng, pool: readonly T[], n: number): T[] => {
  const left = [...pool]
  const out: T[] = []
  while (out.length < n && left.length) out.push(left.splice(int(r, 0, left.length - 1), 1)[0] as T)
  return out
}

/** A run: rules that differ in one match only, all with the same other matches and target. */
const runOf = (r: Rng, chain: string, key: string[], values: readonly string[], shared: readonly string[], target: string): string[][] =>
  values.map((v) => ['-A', chain, ...shared, ...key, v, ...(target === '' ? [] : ['-j', target])])

const genRuleSet = (r: Rng): string[][] => {
  const commands: string[][] = [
    ['-P', 'input', 'ACCEPT'],
    ['-N', 'blk'],
  ]
  commands.push(...runOf(r, 'blk', ['-s'], some(r, SRC_NETS, 10), ['-p', 'udp'], 'DENY'), ['-A', 'blk', '-j', 'RETURN'])
  // Jumps first: they take the normal path, which renders (and folds) what is there.
  commands.push(['-A', 'input', '-p', 'udp', '-s', '172.16.0.0/12', '-j', 'blk'])
  const runs: (() => string[][])[] = [
    () => runOf(r, 'input', ['-s'], some(r, SRC_NETS, int(r, 8, 13)), [], pick(r, VERDICTS)),
    () => runOf(r, 'input', ['--dport'], some(r, PORTS, int(r, 8, 11)), ['-p', pick(r, ['tcp', 'udp'])], pick(r, VERDICTS)),
    () => runOf(r, 'input', ['--sport'], some(r, PORTS, int(r, 8, 11)), ['-p', 'tcp', '-y'], pick(r, VERDICTS)),
    // Count only: overlapping keys cannot fold together.
    () => runOf(r, 'input', ['-s'], some(r, SRC_NETS, int(r, 9, 13)), [], ''),
    () => runOf(r, 'forward', ['-d'], some(r, DST_NETS, int(r, 8, 9)), [], pick(r, VERDICTS)),
    () => runOf(r, 'forward', ['-d'], some(r, DST_NETS, int(r, 8, 9)), ['-p', 'icmp'], ''),
    () => runOf(r, 'forward', ['-s'], some(r, SRC_NETS, int(r, 8, 12)), ['-i', 'ppp+'], pick(r, VERDICTS)),
  ]
  for (let i = 0; i < 7; i++) {
    commands.push(...(pick(r, runs) as () => string[][])())
    // Interleaved rules with another verdict break runs.
    if (chance(r, 0.6)) commands.push(['-A', pick(r, ['input', 'forward']), '-s', pick(r, SRC_NETS), '-j', pick(r, VERDICTS)])
  }
  return commands
}

// 2.2 (spec/legacy/packet-path.md §2), for the verdicts these rule sets give.
const outcomeOf = (chain: 'input' | 'forward', verdict: string, p: Packet): string => {
  if (verdict === 'rejected') return answered(p) ? (chain === 'input' ? 'port-unreachable' : 'host-unreachable') : 'dropped'
  if (verdict === 'denied') return 'dropped'
  if (verdict !== 'accepted') return `(no outcome for verdict "${verdict}")`
  return chain === 'input' && isLocal(p.dst) ? 'local' : 'forwarded'
}

/** The counters of every rule as `ipchains -L -v -x -n` lists them ("chain #n pkts bytes"). */
const listedCounters = (ns: string): string[] =>
  ['input', 'forward', 'blk'].flatMap((chain) =>
    run(ns, [IPCHAINS, '-L', chain, '-n', '-v', '-x'])
      .split('\n')
      .slice(2)
      .filter((l) => l.trim() !== '')
      .map((l, i) => `${chain} #${i + 1} ${l.trim().split(/\s+/).slice(0, 2).join(' ')}`),
  )

const fullListing = (ns: string): string => run(ns, [IPCHAINS, '-L', '-n', '-v', '-x']) + run(ns, [IPCHAINS_SAVE, '-v'])

const foldsIn = (ns: string, chain: string, table = 'legacyfw_ipchains'): number =>
  (run(ns, ['nft', 'list', 'chain', 'ip', table, chain]).match(/ map @/g) ?? []).length

// ipfwadm: accounting runs (every matching rule counts: overlapping keys
// must not fold together) in and out, and firewall runs. -c describes a
// packet differently from the packets sent (differential-ipfwadm.test.ts),
// so here the folded kernel is held to the linear one: the same fate for
// every packet, the same listings with the same counters.
const IPFWADM = new URL('../bin/ipfwadm', import.meta.url).pathname
const FW_VERDICTS = ['accept', 'deny', 'reject'] as const
const FW_PORTS = ['21', '22:25', '53', '79:80', '80', '110', '443', '1023:1024', '6000:6010', '8000']

const genFwadmRuleSet = (r: Rng): string[][] => {
  const commands: string[][] = [['-I', '-p', 'accept']]
  const runs: (() => string[][])[] = [
    () => some(r, SRC_NETS, int(r, 8, 13)).map((n) => ['-A', pick(r, ['in', 'both']), '-a', '-S', n]),
    () => some(r, DST_NETS, int(r, 8, 9)).map((n) => ['-A', 'out', '-a', '-D', n]),
    () => {
      const [dir, proto] = [pick(r, ['in', 'out', 'both']), pick(r, ['tcp', 'udp'])]
      return some(r, FW_PORTS, int(r, 8, 10)).map((p) => ['-A', dir, '-a', '-P', proto, '-S', '0/0', '-D', '0/0', p])
    },
    () => {
      const v = pick(r, FW_VERDICTS)
      return some(r, SRC_NETS, int(r, 8, 13)).map((n) => ['-I', '-a', v, '-S', n])
    },
    () => {
      const [v, proto] = [pick(r, FW_VERDICTS), pick(r, ['tcp', 'udp'])]
      return some(r, FW_PORTS, int(r, 8, 10)).map((p) => ['-I', '-a', v, '-P', proto, '-S', '0/0', '-D', '0/0', p])
    },
    () => {
      const v = pick(r, FW_VERDICTS)
      return some(r, DST_NETS, int(r, 8, 9)).map((n) => ['-F', '-a', v, '-D', n])
    },
  ]
  for (let i = 0; i < 8; i++) {
    commands.push(...(pick(r, runs) as () => string[][])())
    if (chance(r, 0.5)) commands.push([pick(r, ['-I', '-F']), '-a', pick(r, FW_VERDICTS), '-S', pick(r, SRC_NETS)])
  }
  return commands
}

const fwadmListing = (ns: string): string => ['-A', '-I', '-F', '-O'].map((c) => run(ns, [IPFWADM, c, '-l', '-n', '-v', '-x'])).join('')
const fwadmFolds = (ns: string): number =>
  ['acct_in_rules', 'acct_out_rules', 'input_rules', 'forward_rules'].reduce((n, c) => n + foldsIn(ns, c, 'legacyfw_ipfwadm'), 0)

const missing = missingForDiff()
if (missing) t.fail(missing)
else {
  t.comment(`seed ${SEED} (LEGACYFW_DIFF_SEED=${SEED} reproduces this run)`)
  const { lab, built } = startLab(t, 'f')
  const rng = mulberry32(SEED)
  for (let round = 1; built && round <= ROUNDS; round++) {
    const commands = genRuleSet(rng)
    const packets = genPackets(rng, { packets: 160, localShare: 0.35, gre: false }, ALL_FLAGS, fieldsKey, round * 1000)
    t.test(`rule set ${round}: ${commands.length} commands, ${packets.length} packets`, async (t) => {
      const listing = loadRuleSet(t, lab, IPCHAINS, commands)
      if (listing === undefined) return
      t.equal(foldsIn(lab.gw, 'input_rules') + foldsIn(lab.gw, 'forward_rules'), 0, 'loaded one rule at a time: the built-in chains are linear')
      t.ok(foldsIn(lab.gw, 'u_blk') > 0, 'the user chain is folded')
      const linear = await sendAndObserve(lab, packets)
      const linearCounters = listedCounters(lab.gw)
      const linearListing = fullListing(lab.gw)

      run(lab.gw, [IPCHAINS, '-P', 'input', 'DENY'])
      run(lab.gw, [IPCHAINS, '-P', 'input', 'ACCEPT'])
      t.ok(foldsIn(lab.gw, 'input_rules') > 0 && foldsIn(lab.gw, 'forward_rules') > 0, 're-rendered: both built-in chains hold folds')
      t.same(listedCounters(lab.gw), linearCounters, 'folding keeps every counter')
      t.equal(fullListing(lab.gw), linearListing, 'and every listed rule')
      run(lab.gw, [IPCHAINS, '-Z'])
      spawnSync('ip', ['netns', 'exec', lab.gw, 'conntrack', '-F'], { stdio: 'ignore' })

      const ask = async (chain: 'input' | 'forward', ps: readonly Packet[]): Promise<Map<Packet, string>> => {
        const answers = await runEach(
          lab,
          IPCHAINS,
          ps.map((p) => checkArgs(chain, p)),
        )
        return new Map(ps.map((p, i) => [p, answers[i]?.status === 0 ? (answers[i]?.out ?? '') : `exit: ${answers[i]?.out}`]))
      }
      const vin = await ask('input', packets)
      const transit = packets.filter((p) => !isLocal(p.dst) && vin.get(p) === 'accepted')
      const vfwd = await ask('forward', transit)
      const folded = await sendAndObserve(lab, packets)
      const verdicts = new Map<string, number>()
      let mismatches = 0
      for (const p of packets) {
        const v = vin.get(p) as string
        const expected = v === 'accepted' && !isLocal(p.dst) ? outcomeOf('forward', vfwd.get(p) as string, p) : outcomeOf('input', v, p)
        verdicts.set(`${v}/${vfwd.get(p) ?? '-'}`, (verdicts.get(`${v}/${vfwd.get(p) ?? '-'}`) ?? 0) + 1)
        const [got, before] = [observed(p, folded), observed(p, linear)]
        if (got === expected && got === before) continue
        mismatches++
        t.fail(`${describe(p)}: -C says ${v}${vfwd.has(p) ? ` then ${vfwd.get(p)}` : ''} (expect ${expected}), folded: ${got}, linear: ${before}`, {
          ruleset: listing,
        })
      }
      if (!mismatches) t.pass(`${packets.length} packets: every -C verdict matches the folded kernel, and the linear one`)
      t.comment(`verdicts (input/forward): ${[...verdicts].map(([v, n]) => `${v} ${n}`).join(', ')}`)
      const foldedCounters = listedCounters(lab.gw)
      t.same(foldedCounters, linearCounters, 'every rule counted the same packets and bytes as linearly')
      t.ok(
        foldedCounters.filter((c) => !c.endsWith(' 0 0')).length >= 10,
        `${foldedCounters.filter((c) => !c.endsWith(' 0 0')).length} rules counted traffic`,
      )
    })
  }
  for (let round = 1; built && round <= ROUNDS; round++) {
    const commands = genFwadmRuleSet(rng)
    const packets = genPackets(rng, { packets: 160, localShare: 0.35, gre: false }, ALL_FLAGS, fieldsKey, 5000 + round * 1000)
    t.test(`ipfwadm rule set ${round}: ${commands.length} commands, ${packets.length} packets`, async (t) => {
      const listing = loadRuleSet(t, lab, IPFWADM, commands)
      if (listing === undefined) return
      t.equal(fwadmFolds(lab.gw), 0, 'loaded one rule at a time: linear')
      const linear = await sendAndObserve(lab, packets)
      const linearListing = fwadmListing(lab.gw)
      run(lab.gw, [IPFWADM, '-I', '-p', 'deny'])
      run(lab.gw, [IPFWADM, '-I', '-p', 'accept'])
      t.ok(fwadmFolds(lab.gw) >= 3, `re-rendered: ${fwadmFolds(lab.gw)} folds`)
      t.equal(fwadmListing(lab.gw), linearListing, 'folding keeps every rule and counter')
      for (const c of ['-A', '-I', '-F', '-O']) run(lab.gw, [IPFWADM, c, '-z'])
      spawnSync('ip', ['netns', 'exec', lab.gw, 'conntrack', '-F'], { stdio: 'ignore' })
      const folded = await sendAndObserve(lab, packets)
      const differ = packets.filter((p) => observed(p, folded) !== observed(p, linear))
      for (const p of differ) t.fail(`${describe(p)}: folded: ${observed(p, folded)}, linear: ${observed(p, linear)}`, { ruleset: listing })
      if (!differ.length) t.pass(`${packets.length} packets fare as they did linearly`)
      const after = fwadmListing(lab.gw)
      t.equal(after, linearListing, 'every rule counted the same packets and bytes as linearly')
      t.ok(/^\s*[1-9]/m.test(after), 'rules counted traffic')
    })
  }
}
