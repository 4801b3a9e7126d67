// Differential test of `ipchains -C` against the kernel: generated rule sets
// are loaded with bin/ipchains into the gateway of the namespace lab
// (helpers/difflab.ts: sender S, gateway GW, receiver R), and for every
// generated packet the -C verdict (src/translate/ipchains/check.ts) must
// predict what the kernel then does with the same packet sent for real
// (most packets from S), observed without touching GW's firewall.
//
// The expected outcome of a verdict follows spec/legacy/packet-path.md §2
// (2.2): input runs first for every packet (REJECT → port unreachable even
// for transit packets, REDIRECT → local delivery, MASQ = ACCEPT); the
// forward chain, with the outgoing interface, decides transit packets the
// input chain let through (REJECT → host unreachable; DENY, REDIRECT and
// loops drop; MASQ → source = the outgoing address, port 61000-65095, ICMP
// only for query types as ip_fw_masq_icmp, other protocols dropped as
// ip_fw_masquerade returns -1). An ICMP error is never answered with one.
//
// Excluded from the generator (docs/divergences.md): fragments (nftables
// reassembles before the input chain) and, in rule sets that can MASQ or
// REDIRECT, TCP packets conntrack cannot take as a new connection (SYN+ACK,
// RST, FIN: 2.2 masqueraded/redirected any TCP packet, nftables NATs only
// tracked connections).
//
// Each profile (PROFILES) draws its packets, then up to 30 candidate rule
// sets, and keeps the first whose verdict mix (from the -C simulator run
// in-process) has what the profile is about (loops, REDIRECT, MASQ, ...).
//
// The seed is printed; LEGACYFW_DIFF_SEED=<n> reproduces a run,
// LEGACYFW_DIFF_ONLY=<profile> runs one rule set, LEGACYFW_DIFF_VERBOSE=1
// prints each rule set.
import t from 'tap'
import { pureWorld, runPure } from './helpers/tools.ts'
import {
  ALL_FLAGS,
  ICMP,
  ICMP_QUERY_TYPES,
  type Packet,
  type Rng,
  TCP,
  TRACKABLE_FLAGS,
  UDP,
  answered,
  chance,
  chooseCandidate,
  choiceComment,
  count,
  describe,
  fieldsKey,
  genPackets,
  int,
  isLocal,
  loadRuleSet,
  missingForDiff,
  mulberry32,
  observed,
  outIf,
  pick,
  protoName,
  runEach,
  sendAndObserve,
  shortfall,
  startLab,
  tcpsyn,
  weighted,
  checkArgs,
} from './helpers/difflab.ts'
import { checkPacket } from '../src/translate/ipchains/check.ts'
import { decodeState } from '../src/translate/ipchains/decode.ts'

const IPCHAINS = new URL('../bin/ipchains', import.meta.url).pathname
const SEED = Number(process.env['LEGACYFW_DIFF_SEED'] ?? 1999)

// ---------------------------------------------------------------------------
// Rule sets

type Ctx = 'input' | 'forward'

interface Profile {
  readonly name: string
  /** Rules generated in each built-in chain under test. */
  readonly input?: number
  readonly forward?: number
  readonly inputPolicies?: readonly string[]
  readonly forwardPolicies?: readonly string[]
  /** User chains and the rules in each. */
  readonly userChains: number
  readonly userRules: number
  readonly masq: boolean
  readonly redirect: boolean
  readonly loop: boolean
  readonly packets: number
  /** Share of packets addressed to GW itself (only with an input chain under test). */
  readonly localShare: number
  readonly gre: boolean
  /** Target weights that differ from the defaults. */
  readonly weights?: Readonly<Record<string, number>>
  /** Least number of packets per verdict ("input denied") or outcome ("=> local"). */
  readonly want: Readonly<Record<string, number>>
}

const PROFILES: readonly Profile[] = [
  {
    name: 'input-flat',
    input: 18,
    inputPolicies: ['DENY', 'REJECT', 'ACCEPT'],
    userChains: 0,
    userRules: 0,
    masq: false,
    redirect: false,
    loop: false,
    packets: 80,
    localShare: 0.6,
    gre: true,
    want: { 'input accepted': 4, 'input denied': 4, 'input rejected': 4, '=> local': 4, '=> forwarded': 3 },
  },
  {
    name: 'input-chains-redirect',
    input: 10,
    inputPolicies: ['REJECT', 'DENY', 'ACCEPT'],
    userChains: 3,
    userRules: 6,
    masq: true,
    redirect: true,
    loop: false,
    packets: 80,
    localShare: 0.5,
    gre: true,
    weights: { REDIRECT: 4, MASQ: 5, JUMP: 4 },
    want: { 'input redirected': 5, 'input masqueraded': 2, 'input accepted': 3, 'input rejected': 3, 'input denied': 3, '=> local': 2 },
  },
  {
    name: 'forward-masq',
    forward: 12,
    forwardPolicies: ['MASQ', 'REJECT', 'DENY'],
    userChains: 2,
    userRules: 6,
    masq: true,
    redirect: false,
    loop: false,
    packets: 80,
    localShare: 0,
    gre: true,
    want: { 'forward masqueraded': 5, 'forward rejected': 3, 'forward denied': 3, 'forward accepted': 3 },
  },
  {
    name: 'forward-chains',
    forward: 10,
    forwardPolicies: ['REJECT', 'ACCEPT', 'DENY'],
    userChains: 3,
    userRules: 6,
    masq: false,
    redirect: true,
    loop: false,
    packets: 70,
    localShare: 0,
    gre: true,
    weights: { REDIRECT: 5 },
    want: { 'forward redirected': 3, 'forward rejected': 3, 'forward accepted': 3, 'forward denied': 3 },
  },
  {
    name: 'loop',
    input: 6,
    forward: 6,
    inputPolicies: ['ACCEPT', 'DENY'],
    forwardPolicies: ['ACCEPT', 'REJECT'],
    userChains: 3,
    userRules: 5,
    masq: false,
    redirect: false,
    loop: true,
    packets: 70,
    localShare: 0.3,
    gre: false,
    want: { 'input caught in loop': 3, 'forward caught in loop': 3, 'input accepted': 5, '=> local': 2 },
  },
  {
    name: 'combined',
    input: 8,
    forward: 8,
    inputPolicies: ['ACCEPT', 'REJECT'],
    forwardPolicies: ['MASQ', 'DENY', 'ACCEPT'],
    userChains: 3,
    userRules: 5,
    masq: true,
    redirect: true,
    loop: false,
    packets: 80,
    localShare: 0.3,
    gre: true,
    want: { 'input accepted': 5, 'input rejected': 2, 'input redirected': 2, 'forward masqueraded': 2, 'forward rejected': 2, '=> local': 2 },
  },
]

const SRC_SPECS = [
  '192.168.1.0/24',
  '192.168.0.0/16',
  '192.168.1.0/25',
  '172.16.0.0/12',
  '172.16.5.0/255.255.255.0',
  '10.1.0.2',
  '10.2.0.0/16',
  '0.0.0.1/0.0.0.1',
  '192.168.2.0/24',
]
const DST_SPECS = [
  '10.1.0.1',
  '10.3.0.1',
  '10.2.0.0/16',
  '10.3.0.0/16',
  '10.5.0.0/16',
  '10.6.0.0/255.255.0.0',
  '10.4.0.2',
  '10.5.0.0/255.255.128.0',
  '10.4.0.0/15',
]
const SPORT_SPECS = ['1024:65535', ':1023', '53', '1024', '6000:6010', '40000:', '61000', '6000:1000']
const DPORT_SPECS = ['80', '22:25', ':1023', '6000:6063', '53', '1024:', '443', '0:79', '443:80']
const ICMP_NAMES = [
  'echo-request',
  'echo-reply',
  'destination-unreachable',
  'port-unreachable',
  'host-unreachable',
  'time-exceeded',
  'source-quench',
  'timestamp-request',
  'address-mask-request',
  'parameter-problem',
]
const ICMP_TYPES = ['8', '0', '3', '0:8', '11:18', '13']
const ICMP_CODES = ['0', '1:3', '3', '1']
const IFACES: Record<Ctx | 'any', readonly string[]> = {
  input: ['eth0', 'eth1', 'eth+', 'e+', 'eth', 'ppp+', 'eth1+', 'ppp0'],
  forward: ['ppp0', 'ppp1', 'ppp+', 'p+', 'ppp', 'eth+', 'ppp1+', 'eth0'],
  any: ['eth0', 'eth+', 'ppp1', 'ppp+', 'e+', 'ppp', 'eth1', 'p+'],
}
const REDIRECT_PORTS = [8080, 3130]

interface RuleSet {
  readonly profile: Profile
  readonly commands: readonly string[][]
}

const maybeNot = (r: Rng, p: number): string[] => (chance(r, p) ? ['!'] : [])

/**
 * One rule's match options, shaped by the target it will get: `wanted`
 * conditions besides the protocol (an inverted one does not count, it
 * matches most packets), so that packets spread over many rules.
 */
const ruleMatch = (r: Rng, ctx: Ctx | 'any', target: string, wanted: number): string[] => {
  const a: string[] = []
  const redirect = target.startsWith('REDIRECT')
  const proto = redirect
    ? pick(r, ['tcp', 'udp'])
    : weighted(r, [
        ['tcp', 4],
        ['udp', 3],
        ['icmp', 3],
        ['all', 3],
        ['! tcp', 1],
        ['! udp', 1],
        ['! icmp', 1],
      ] as const)
  if (proto !== 'all') a.push('-p', ...proto.split(' '))
  let narrow = 0
  const not = (p: number): string[] => {
    const inverted = maybeNot(r, p)
    if (!inverted.length) narrow++
    return inverted
  }
  const conditions: (() => unknown)[] = [
    () => a.push('-s', ...not(0.2), pick(r, SRC_SPECS)),
    () => a.push('-i', ...not(0.25), pick(r, IFACES[ctx])),
  ]
  // REDIRECT to the original port only for transit packets (delivered
  // locally to the port they were sent to, it would look like ACCEPT).
  if (redirect && target.endsWith(' 0')) a.push('-d', '10.5.0.0/16')
  else conditions.push(() => a.push('-d', ...not(0.2), pick(r, DST_SPECS)))
  if (proto === 'tcp' || proto === 'udp')
    conditions.push(
      () => a.push('--sport', ...not(0.2), pick(r, SPORT_SPECS)),
      () => a.push('--dport', ...not(0.2), pick(r, DPORT_SPECS)),
    )
  if (proto === 'icmp')
    conditions.push(() => {
      // A name sets the code range too; only numeric types take a code.
      if (chance(r, 0.5)) {
        a.push('--icmp-type', pick(r, ICMP_NAMES))
        narrow++
      } else {
        a.push('--icmp-type', ...not(0.2), pick(r, ICMP_TYPES))
        if (chance(r, 0.4)) a.push('--dport', ...maybeNot(r, 0.2), pick(r, ICMP_CODES))
      }
    })
  if (proto === 'tcp') conditions.push(() => a.push(...maybeNot(r, 0.3), '-y'))
  while (narrow < wanted && conditions.length) (conditions.splice(int(r, 0, conditions.length - 1), 1)[0] as () => unknown)()
  // Fragments are never sent: -f never matches, ! -f always does.
  if (chance(r, 0.04)) a.push('!', '-f')
  // Side effects that must not change the verdict.
  if (chance(r, 0.08)) a.push(...pick(r, [['-m', '+7'], ['-m', '0x42'], ['-m', '-1'], ['-t', '0x01', '0x10'], ['-l']]))
  return a
}

const genRuleSet = (r: Rng, profile: Profile): RuleSet => {
  const users = Array.from({ length: profile.userChains }, (_, i) => `${profile.name.slice(0, 3)}_${String.fromCharCode(97 + i)}`)
  const builtins: Ctx[] = [...(profile.input ? ['input' as const] : []), ...(profile.forward ? ['forward' as const] : [])]
  const ctxOf = (chain: string): Ctx | 'any' =>
    chain === 'input' || chain === 'forward' ? chain : builtins.length === 1 ? (builtins[0] as Ctx) : 'any'
  const target = (chain: string, later: readonly string[]): string => {
    const builtin = chain === 'input' || chain === 'forward'
    const options: [string, number][] = [
      ['ACCEPT', 3],
      ['DENY', 2],
      ['REJECT', 2.5],
      ['', 1],
      ['RETURN', builtin ? 0.3 : 1.5],
    ]
    if (later.length) options.push(['JUMP', 2.5])
    if (profile.masq && chain !== 'input') options.push(['MASQ', 2.5])
    if (profile.redirect && chain !== 'forward') options.push(['REDIRECT', 2])
    const t = weighted(
      r,
      options.map(([name, w]) => [name, profile.weights?.[name] ?? w] as const),
    )
    if (t === 'JUMP') return pick(r, later)
    if (t === 'REDIRECT') return chance(r, 0.3) ? 'REDIRECT 0' : `REDIRECT ${pick(r, REDIRECT_PORTS)}`
    return t
  }
  const rule = (chain: string, later: readonly string[], forced?: string): string[] => {
    const tg = forced ?? target(chain, later)
    // Jumps are broader, so that user chains see traffic.
    const m = ruleMatch(r, ctxOf(chain), tg, later.includes(tg) || forced ? 1 : int(r, 1, 3))
    return ['-A', chain, ...m, ...(tg === '' ? [] : ['-j', ...tg.split(' ')])]
  }
  const chains = new Map<string, string[][]>()
  for (const b of builtins) {
    const n = b === 'input' ? (profile.input ?? 0) : (profile.forward ?? 0)
    chains.set(
      b,
      Array.from({ length: n }, () => rule(b, users)),
    )
  }
  users.forEach((u, i) =>
    chains.set(
      u,
      Array.from({ length: profile.userRules }, () => rule(u, users.slice(i + 1))),
    ),
  )
  // Every user chain is reached: the first one early from every built-in
  // chain for many packets, the others from a built-in chain or an earlier
  // user chain.
  const broad = [[], ['-s', '192.168.0.0/16'], ['-d', '10.0.0.0/8'], ['-p', '!', 'icmp'], ['-i', '!', 'lo'], ['-p', '!', 'tcp']]
  const first = users[0]
  if (first !== undefined && !profile.loop) {
    for (const b of builtins) (chains.get(b) as string[][]).splice(int(r, 0, 3), 0, ['-A', b, ...pick(r, broad), '-j', first])
    users.slice(1).forEach((u, i) => {
      const parent = pick(r, [...builtins, ...users.slice(0, i + 1)])
      const rules = chains.get(parent) as string[][]
      if (!rules.some((cmd) => cmd.at(-1) === u)) rules.splice(int(r, 0, rules.length), 0, rule(parent, [], u))
    })
    // It gets a broad MASQ and REDIRECT rule near its top where the profile has them.
    const rules = chains.get(first) as string[][]
    if (profile.masq) rules.splice(int(r, 0, 2), 0, rule(first, [], 'MASQ'))
    if (profile.redirect) rules.splice(int(r, 0, 2), 0, rule(first, [], `REDIRECT ${pick(r, REDIRECT_PORTS)}`))
  }
  if (profile.loop) {
    // Every built-in chain enters a early; a -> b -> c -> a, each hop near
    // the top of its chain and taken for a good share of the packets, so
    // some packets go round the loop.
    // (-i eth1 and -i ppp+ let a packet round the loop in one chain and not the other.)
    const some = [
      ['-p', 'udp'],
      ['-s', '192.168.1.0/24'],
      ['-p', 'tcp', '-y'],
      ['-d', '10.5.0.0/16'],
      ['-i', 'eth1'],
      ['-i', 'ppp+'],
    ]
    // Input enters the loop for some packets only, so that others go round it in forward.
    for (const b of builtins)
      (chains.get(b) as string[][]).splice(int(r, 0, 2), 0, ['-A', b, ...pick(r, b === 'input' ? some : broad), '-j', users[0] as string])
    users.forEach((u, i) => {
      const next = users[(i + 1) % users.length] as string
      ;(chains.get(u) as string[][]).splice(int(r, 0, 1), 0, ['-A', u, ...pick(r, i === users.length - 1 ? some : broad), '-j', next])
    })
  }
  const commands: string[][] = [...users.map((u) => ['-N', u])]
  for (const rules of chains.values()) commands.push(...rules)
  if (profile.input) commands.push(['-P', 'input', pick(r, profile.inputPolicies ?? ['ACCEPT'])])
  if (profile.forward) commands.push(['-P', 'forward', pick(r, profile.forwardPolicies ?? ['ACCEPT'])])
  return { profile, commands }
}

// ---------------------------------------------------------------------------
// -C

// ---------------------------------------------------------------------------
// Verdicts -> expected outcomes (2.2, packet-path.md §2)

const masqOutcome = (p: Packet): string => {
  if (p.proto === TCP || p.proto === UDP) return 'masqueraded'
  if (p.proto === ICMP) return ICMP_QUERY_TYPES.includes(p.type) ? 'masqueraded' : 'forwarded'
  return 'dropped'
}

const forwardOutcome = (verdict: string, p: Packet): string => {
  switch (verdict) {
    case 'accepted':
      return 'forwarded'
    case 'masqueraded':
      return masqOutcome(p)
    case 'rejected':
      return answered(p) ? 'host-unreachable' : 'dropped'
    case 'denied':
    case 'redirected':
    case 'caught in loop':
      return 'dropped'
    default:
      return `(no outcome for verdict "${verdict}")`
  }
}

const inputOutcome = (verdict: string, p: Packet, forward: () => string): string => {
  switch (verdict) {
    case 'accepted':
    case 'masqueraded':
      return isLocal(p.dst) ? 'local' : forward()
    case 'redirected':
      return 'redirected'
    case 'rejected':
      return answered(p) ? 'port-unreachable' : 'dropped'
    case 'denied':
    case 'caught in loop':
      return 'dropped'
    default:
      return `(no outcome for verdict "${verdict}")`
  }
}

// ---------------------------------------------------------------------------
// Choosing rule sets

/**
 * The verdicts and expected outcomes a rule set gives its packets, from the
 * -C simulator in-process (no kernel, no namespace). Only used to choose,
 * among seeded candidates, a rule set that reaches what its profile is
 * about; every packet of the chosen one is then checked against the kernel.
 */
const verdictMix = async (ruleSet: RuleSet, packets: readonly Packet[]): Promise<Map<string, number>> => {
  const { profile } = ruleSet
  const world = pureWorld()
  const mix = new Map<string, number>()
  const add = (key: string): void => void mix.set(key, (mix.get(key) ?? 0) + 1)
  for (const cmd of ruleSet.commands) if ((await runPure(world, ['ipchains', ...cmd])).status !== 0) add('invalid command')
  const state = decodeState(world.store.read())
  const addr = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0)
  const l4 = (p: Packet): [number, number] => (p.proto === ICMP ? [p.type, p.code] : [p.sport, p.dport])
  const check = (chain: Ctx, p: Packet): string =>
    checkPacket(state, chain, {
      saddr: addr(p.src),
      daddr: addr(p.dst),
      proto: p.proto,
      sport: l4(p)[0],
      dport: l4(p)[1],
      syn: tcpsyn(p),
      fragOffset: 0,
      iface: chain === 'input' ? p.inIf : outIf(p.dst),
    })
  for (const p of packets) {
    const vin = profile.input ? check('input', p) : 'accepted'
    if (profile.input) add(`input ${vin}`)
    const through = !isLocal(p.dst) && ['accepted', 'masqueraded'].includes(vin)
    const vfwd = profile.forward && through ? check('forward', p) : 'accepted'
    if (profile.forward && through) add(`forward ${vfwd}`)
    add(`=> ${inputOutcome(vin, p, () => forwardOutcome(vfwd, p))}`)
  }
  return mix
}

const chooseRuleSet = (r: Rng, profile: Profile, packets: readonly Packet[]) =>
  chooseCandidate(async () => {
    const ruleSet = genRuleSet(r, profile)
    return { candidate: ruleSet, shortfall: shortfall(profile.want, packets.length, await verdictMix(ruleSet, packets), 'invalid command') }
  })

// ---------------------------------------------------------------------------

const missing = missingForDiff()
if (missing) t.fail(missing)
else {
  t.comment(`seed ${SEED} (LEGACYFW_DIFF_SEED=${SEED} reproduces this run)`)
  const { lab, built } = startLab(t, 'd')
  const rng = mulberry32(SEED)
  const started = Date.now()
  let nextId = 1000
  let total = 0
  const tally = new Map<string, number>()
  const seenOutcomes = new Map<string, number>()

  for (const profile of built ? PROFILES : []) {
    // MASQ, and REDIRECT from the input chain, need a connection to NAT.
    const flags = profile.masq || (profile.redirect && profile.input) ? TRACKABLE_FLAGS : ALL_FLAGS
    const packets = genPackets(rng, profile, flags, fieldsKey, nextId)
    nextId += packets.length
    const choice = await chooseRuleSet(rng, profile, packets)
    const only = process.env['LEGACYFW_DIFF_ONLY']
    if (only && only !== profile.name) continue
    const ruleSet = choice.candidate
    t.test(`rule set ${profile.name}`, async (t) => {
      t.comment(choiceComment(profile.name, choice))
      const began = Date.now()
      const listing = loadRuleSet(t, lab, IPCHAINS, ruleSet.commands)
      if (listing === undefined) return
      const loaded = Date.now()
      // -C for the chains this rule set exercises (the others are empty with
      // policy ACCEPT): input for every packet, forward for the transit
      // packets the input chain lets through.
      const ask = async (chain: Ctx, ps: readonly Packet[]): Promise<Map<Packet, string>> => {
        const answers = await runEach(
          lab,
          IPCHAINS,
          ps.map((p) => checkArgs(chain, p)),
        )
        // A verdict, or what went wrong.
        const said = answers.map((r) => (r.status === 0 ? r.out : `exit ${r.status}: ${r.out}`))
        return new Map(ps.map((p, i) => [p, said[i] as string]))
      }
      const inputVerdicts = profile.input ? await ask('input', packets) : new Map<Packet, string>()
      const vin = (p: Packet): string => inputVerdicts.get(p) ?? 'accepted'
      const transit = packets.filter((p) => !isLocal(p.dst) && ['accepted', 'masqueraded'].includes(vin(p)))
      const forwardVerdicts = profile.forward ? await ask('forward', transit) : new Map<Packet, string>()
      const vfwd = (p: Packet): string => forwardVerdicts.get(p) ?? 'accepted'
      const checked = Date.now()
      const obs = await sendAndObserve(lab, packets)
      let mismatches = 0
      const outcomes = new Map<string, number>()
      for (const p of packets) {
        const expected = inputOutcome(vin(p), p, () => forwardOutcome(vfwd(p), p))
        const got = observed(p, obs)
        total++
        count(outcomes, got)
        if (inputVerdicts.has(p)) count(tally, `input ${vin(p)}`)
        if (forwardVerdicts.has(p)) count(tally, `forward ${vfwd(p)}`)
        if (vfwd(p) === 'masqueraded')
          count(tally, `masqueraded ${protoName(p)}${p.proto === ICMP ? (ICMP_QUERY_TYPES.includes(p.type) ? ' query' : ' other') : ''}`)
        count(seenOutcomes, got)
        if (got === expected) continue
        mismatches++
        const checks = [
          ...(inputVerdicts.has(p) ? [`ipchains ${checkArgs('input', p).join(' ')}  => ${vin(p)}`] : []),
          ...(forwardVerdicts.has(p) ? [`ipchains ${checkArgs('forward', p).join(' ')}  => ${vfwd(p)}`] : []),
        ]
        t.fail(
          `${profile.name}: ${describe(p)}: -C says ${checks.map((c) => c.split('=> ')[1]).join(' then ')} (expect ${expected}), kernel: ${got}`,
          {
            packet: describe(p),
            check: checks.join('\n'),
            expected,
            observed: got,
            ruleset: listing,
            seed: SEED,
          },
        )
      }
      if (!mismatches) t.pass(`${profile.name}: ${packets.length} packets, every -C verdict matches the kernel`)
      t.comment(`${profile.name}: ${[...outcomes].map(([o, n]) => `${o} ${n}`).join(', ')}`)
      t.comment(
        `${profile.name}: load ${((loaded - began) / 1000).toFixed(1)} s, -C ${((checked - loaded) / 1000).toFixed(1)} s, traffic ${((Date.now() - checked) / 1000).toFixed(1)} s`,
      )
    })
  }
  if (built && !process.env['LEGACYFW_DIFF_ONLY'])
    t.test('coverage', async (t) => {
      t.ok(total >= 300, `${total} packets checked`)
      // The generator must keep reaching every verdict and outcome.
      for (const v of [
        'input accepted',
        'input denied',
        'input rejected',
        'input redirected',
        'input masqueraded',
        'input caught in loop',
        'forward accepted',
        'forward denied',
        'forward rejected',
        'forward masqueraded',
        'forward redirected',
        'forward caught in loop',
      ])
        t.ok((tally.get(v) ?? 0) >= 2, `-C ${v}: ${tally.get(v) ?? 0} packets`)
      for (const v of ['masqueraded tcp', 'masqueraded udp', 'masqueraded icmp query', 'masqueraded icmp other', 'masqueraded 47'])
        t.ok((tally.get(v) ?? 0) >= 1, `-C forward ${v}: ${tally.get(v) ?? 0} packets`)
      for (const o of ['local', 'redirected', 'forwarded', 'masqueraded', 'dropped', 'port-unreachable', 'host-unreachable'])
        t.ok((seenOutcomes.get(o) ?? 0) >= 5, `kernel ${o}: ${seenOutcomes.get(o) ?? 0} packets`)
      t.comment(`${total} packets in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    })
}
