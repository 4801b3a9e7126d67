// Differential test of ipfwadm against the kernel: generated rule sets are
// loaded with bin/ipfwadm into the gateway of the namespace lab
// (helpers/difflab.ts), and for every generated packet the Linux 2.0 path
// computed in-process with the -c simulator (src/translate/ipfwadm/check.ts,
// on the state the same commands give in pure mode) must predict what the
// kernel then does with the same packet sent for real. `ipfwadm -c`, run in
// the gateway against the rules in the kernel, must print the verdict the
// simulator gives for the packet it describes.
//
// The path (spec/legacy/packet-path.md §1): the input firewall with the
// receiving interface sees every packet (deny drops, reject answers ICMP
// port unreachable, redirect delivers locally); a packet for the gateway is
// then delivered; a transit packet goes through the forward firewall with
// the outgoing interface (deny and redirect drop, reject answers host
// unreachable, masquerade rewrites the source to the outgoing interface's
// address and port 61000-65095 for TCP/UDP, ICMP queries only, drops other
// protocols), then through the output firewall with the outgoing interface,
// which sees the masqueraded source (masquerade and redirect count as
// accept). The ICMP errors the gateway sends go through the output firewall
// too. `-W`/`-V` compare the interface's name and primary address.
//
// Left out or adjusted, as docs/divergences.md lists them:
// - fragments: nftables reassembles before any chain (never generated);
// - TCP packets conntrack cannot track (SYN+ACK, RST, FIN) are only sent in
//   rule sets without masquerade and redirect: 2.0 rewrote any packet, NAT
//   needs a connection (legacyfw drops them instead);
// - reject in the output firewall drops (nftables cannot reject in
//   postrouting; 2.0 answered host unreachable): predicted as dropped;
// - a redirect rewrites the destination to the receiving interface's
//   address (2.0 kept it and delivered through transparent proxying), so it
//   is observed as "redirected" whenever the address or port changes; an
//   ICMP error or reply conntrack does not track cannot be redirected and is
//   dropped (2.0 delivered it locally, where nothing took it);
// - ICMP errors the gateway sends: 2.0 took their source from the packet's
//   destination (for the gateway) or the receiving interface, Linux now from
//   the route back to the sender. A packet whose error the output firewall
//   would treat differently with the two sources is not compared (counted,
//   and kept rare by the coverage checks).
// `ipfwadm -c` cannot describe an ACK or RST flag or an ICMP type (2.0 put
// neither in its test packet): it is compared with the simulator on the
// packet it does describe; GRE has no -c form.
//
// Each profile (PROFILES) draws its packets, then up to 30 candidate rule
// sets, and keeps the first whose verdict mix (from the simulator) has what
// the profile is about.
//
// The seed is printed; LEGACYFW_DIFF_SEED=<n> reproduces a run,
// LEGACYFW_DIFF_ONLY=<profile> runs one rule set, LEGACYFW_DIFF_VERBOSE=1
// prints each rule set.
import t from 'tap'
import { pureWorld, runPure } from './helpers/tools.ts'
import {
  ALL_FLAGS,
  F,
  GRE,
  ICMP,
  ICMP_QUERY_TYPES,
  type Iface,
  MASQ_HIGH,
  MASQ_LOW,
  type Packet,
  type Rng,
  TCP,
  TRACKABLE_FLAGS,
  answered,
  chance,
  chooseCandidate,
  choiceComment,
  connectionKey,
  count,
  describe,
  genPackets,
  hasPorts,
  ifaceAddr,
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
} from './helpers/difflab.ts'
import { type Packet as FwPacket, type Verdict, checkPacket, ruleMatches } from '../src/translate/ipfwadm/check.ts'
import { decodeState } from '../src/translate/ipfwadm/decode.ts'
import { FW, type Rule, type State } from '../src/translate/ipfwadm/model.ts'

const IPFWADM = new URL('../bin/ipfwadm', import.meta.url).pathname
const SEED = Number(process.env['LEGACYFW_DIFF_SEED'] ?? 2040)
/** -c commands run per chain and rule set. */
const CLI_CHECKS = 20

// ---------------------------------------------------------------------------
// Rule sets

type Chain = 'input' | 'forward' | 'output'
const CATEGORY: Record<Chain, string> = { input: '-I', forward: '-F', output: '-O' }
type Target = 'accept' | 'deny' | 'reject' | 'masquerade' | 'redirect'

interface Profile {
  readonly name: string
  /** Rules generated in each list (accounting rules must leave every verdict alone). */
  readonly rules: Readonly<Partial<Record<Chain | 'accounting', number>>>
  readonly policies: Readonly<Partial<Record<Chain, readonly string[]>>>
  /** Target weights per chain that differ from the defaults. */
  readonly weights?: Readonly<Partial<Record<Chain, Readonly<Partial<Record<Target, number>>>>>>
  readonly masq: boolean
  readonly redirect: boolean
  /** Share of rules given -W or -V. */
  readonly ifaces: number
  readonly packets: number
  /** Share of packets addressed to the gateway itself. */
  readonly localShare: number
  readonly gre: boolean
  /** Least number of packets per verdict ("forward masquerade"), hop ("output sees icmp error") or outcome ("=> local"). */
  readonly want: Readonly<Record<string, number>>
}

const PROFILES: readonly Profile[] = [
  {
    name: 'input',
    rules: { input: 18 },
    policies: { input: ['deny', 'reject', 'accept'] },
    masq: false,
    redirect: true,
    ifaces: 0.3,
    packets: 80,
    localShare: 0.5,
    gre: true,
    want: {
      'input accept': 6,
      'input deny': 4,
      'input reject': 4,
      'input redirect': 5,
      '=> local': 4,
      '=> redirected': 3,
      '=> forwarded': 3,
      '=> port-unreachable': 3,
    },
  },
  {
    name: 'forward-masq',
    rules: { forward: 14 },
    policies: { forward: ['masquerade', 'reject', 'deny', 'accept'] },
    weights: { forward: { masquerade: 3 } },
    masq: true,
    redirect: false,
    ifaces: 0.3,
    packets: 70,
    localShare: 0,
    gre: true,
    want: { 'forward masquerade': 8, 'forward reject': 3, 'forward deny': 3, 'forward accept': 3, '=> masqueraded': 6, '=> host-unreachable': 2 },
  },
  {
    name: 'output',
    rules: { input: 4, forward: 4, output: 14 },
    policies: { input: ['accept'], forward: ['masquerade', 'accept'], output: ['accept', 'deny', 'reject'] },
    weights: { input: { accept: 1, reject: 3, deny: 0.5 }, forward: { masquerade: 3, reject: 1.5, deny: 0.5 }, output: { reject: 3 } },
    masq: true,
    redirect: false,
    ifaces: 0.3,
    packets: 80,
    localShare: 0.15,
    gre: true,
    want: {
      'output accept': 5,
      'output deny': 4,
      'output reject': 3,
      'output sees masqueraded': 6,
      'output sees icmp error': 4,
      '=> masqueraded': 3,
      '=> forwarded': 3,
    },
  },
  {
    name: 'interfaces',
    rules: { input: 8, forward: 8, output: 8 },
    policies: { input: ['accept'], forward: ['accept', 'reject'], output: ['accept', 'deny'] },
    masq: false,
    redirect: false,
    ifaces: 0.75,
    packets: 80,
    localShare: 0.25,
    gre: false,
    want: {
      'input deny': 4,
      'input accept': 8,
      'forward accept': 4,
      'forward reject': 1,
      'output deny': 3,
      'decided by -W': 5,
      'decided by -V': 4,
      '=> forwarded': 4,
      '=> local': 3,
    },
  },
  {
    name: 'combined',
    rules: { accounting: 4, input: 8, forward: 8, output: 6 },
    policies: { input: ['accept', 'reject'], forward: ['masquerade', 'deny', 'accept'], output: ['accept', 'deny'] },
    masq: true,
    redirect: true,
    ifaces: 0.3,
    packets: 80,
    localShare: 0.3,
    gre: true,
    want: {
      'input redirect': 2,
      'input reject': 2,
      'forward masquerade': 3,
      'forward reject': 2,
      'output deny': 2,
      '=> local': 2,
      '=> masqueraded': 2,
    },
  },
]

const SRC_ADDRS = [
  '192.168.1.0/24',
  '192.168.0.0/16',
  '192.168.1.0/25',
  '172.16.0.0/12',
  '172.16.5.0/255.255.255.0',
  '10.1.0.2',
  '10.2.0.0/16',
  '0.0.0.1/0.0.0.1',
  '192.168.2.0/24',
  '10.5.0.0/16',
  '10.6.0.0/255.255.252.0',
  '10.0.0.0/8',
]
/** What the output firewall also sees as a source: the gateway's own addresses. */
const GW_SRC_ADDRS = ['10.3.0.1', '10.4.0.1/32', '10.1.0.1', '10.0.0.0/13']
const DST_ADDRS = [
  '10.1.0.1',
  '10.3.0.1',
  '10.2.0.0/16',
  '10.3.0.0/16',
  '10.5.0.0/16',
  '10.6.0.0/255.255.0.0',
  '10.4.0.2',
  '10.5.0.0/255.255.128.0',
  '10.4.0.0/15',
  '192.168.0.0/16',
  '172.16.5.0/24',
  '0.0.0.0/0.0.0.1',
]
const ANY = ['0/0', '0.0.0.0/0', 'any/0']
const SPORT_SINGLES = [53, 80, 123, 1023, 1024, 1025, 3000, 6000, 6005, 32768, 40000]
const DPORT_SINGLES = [21, 22, 23, 25, 53, 79, 80, 110, 443, 1023, 1024, 6000, 6010, 8000]
// No range or port splits 61000-65095: the output firewall sees a
// masqueraded packet with a port from anywhere in it.
const PORT_RANGES = ['1024:65535', '0:1023', '6000:6010', '20:25', '32768:65535', '1:79', '100:60999', '60000:65535', '53:53']
const ICMP_TYPES = [0, 3, 4, 8, 11, 12, 13, 14, 17, 18]
const ICMP_TYPE_RANGES = ['0:8', '11:18', '3:5', '13:14']
// Exact names only: ppp+ and eth are literal names no interface has.
const IFACE_NAMES = ['eth0', 'eth1', 'ppp0', 'ppp1', 'eth0', 'ppp0', 'ppp+', 'eth', 'ppp2']
const IFACE_ADDRS = ['10.1.0.1', '10.2.0.1', '10.3.0.1', '10.4.0.1', '10.9.0.1']
const REDIRECT_PORTS = ['8080', '3128']
const POLICY_WORDS: Record<Exclude<Target, 'redirect'>, readonly string[]> = {
  accept: ['accept', 'accept', 'a', 'acc'],
  deny: ['deny', 'deny', 'd'],
  reject: ['reject', 'reject', 'r', 'rej'],
  masquerade: ['masquerade', 'm', 'masq'],
}

interface RuleSet {
  readonly profile: Profile
  readonly commands: readonly string[][]
}

/** Port words for one side, at most `budget` slots (a range takes two, and there is at most one). */
const portWords = (r: Rng, singles: readonly (number | string)[], ranges: readonly string[], budget: number): string[] => {
  const words = new Set<string>()
  const n = Math.min(
    budget,
    weighted(r, [
      [1, 4],
      [2, 2],
      [3, 1.5],
      [5, 0.5],
      [8, 0.4],
      [10, 0.2],
    ] as const),
  )
  const range = n >= 2 && chance(r, 0.45) ? pick(r, ranges) : undefined
  while (words.size < n - (range ? 2 : 0) && words.size < singles.length) words.add(String(pick(r, singles)))
  const list = [...words]
  // A range takes the first two slots wherever it is written.
  if (range) list.splice(int(r, 0, list.length), 0, range)
  return list
}

const genRule = (r: Rng, profile: Profile, chain: Chain | 'accounting'): string[] => {
  const fw = chain === 'accounting' ? undefined : chain
  const w = (fw && profile.weights?.[fw]) ?? {}
  const target: Target | undefined = fw
    ? weighted(r, [
        ['accept', w.accept ?? 3],
        ['deny', w.deny ?? 2],
        ['reject', w.reject ?? 2],
        ['masquerade', fw === 'forward' && profile.masq ? (w.masquerade ?? 2.5) : 0],
        ['redirect', fw === 'input' && profile.redirect ? (w.redirect ?? 2.5) : 0],
      ] as const)
    : undefined
  const head =
    chain === 'accounting'
      ? ['-A', ...pick(r, [[], ['in'], ['out'], ['both'], ['i'], ['o']]), chance(r, 0.25) ? '-i' : '-a']
      : [CATEGORY[chain], chance(r, 0.25) ? '-i' : '-a']
  if (target === 'redirect') head.push('accept')
  else if (target === 'masquerade') head.push(...(chance(r, 0.3) ? ['accept', '-m'] : [pick(r, POLICY_WORDS.masquerade)]))
  else if (target) head.push(pick(r, POLICY_WORDS[target]))
  // Masquerade and redirect: not ICMP (ipfwadm refuses them).
  const proto =
    target === 'masquerade' || target === 'redirect'
      ? weighted(r, [
          ['tcp', 3],
          ['udp', 3],
          ['all', 1.5],
        ] as const)
      : weighted(r, [
          ['tcp', 4],
          ['udp', 3],
          ['icmp', 3],
          ['all', 3],
        ] as const)
  const a: string[] = []
  if (proto !== 'all' || chance(r, 0.3)) a.push('-P', proto)
  const src: { addr?: string; ports: string[] } = { ports: [] }
  const dst: { addr?: string; ports: string[] } = { ports: [] }
  let budget = target === 'redirect' ? 9 : 10
  const portsFor = (side: typeof src, singles: readonly number[], ranges: readonly string[]): void => {
    side.ports = portWords(r, singles, ranges, budget)
    budget -= side.ports.length + (side.ports.some((p) => p.includes(':')) ? 1 : 0)
  }
  const conditions: (() => unknown)[] = [
    () => (src.addr = pick(r, chain === 'output' && chance(r, 0.4) ? GW_SRC_ADDRS : SRC_ADDRS)),
    () => (dst.addr = pick(r, DST_ADDRS)),
  ]
  if (proto === 'tcp' || proto === 'udp')
    conditions.push(
      () => portsFor(src, SPORT_SINGLES, PORT_RANGES),
      () => portsFor(dst, DPORT_SINGLES, PORT_RANGES),
    )
  if (proto === 'icmp') conditions.push(() => portsFor(src, ICMP_TYPES, ICMP_TYPE_RANGES))
  if (proto === 'tcp' || proto === 'all') conditions.push(() => a.push(...pick(r, ['-y', '-k', '-y', '-k', '-y -k']).split(' ')))
  // -W and -V: their own share, on top of the other conditions.
  if (chance(r, profile.ifaces)) {
    const which = weighted(r, [
      ['W', 3],
      ['V', 2],
      ['WV', 1],
    ] as const)
    if (which.includes('W')) a.push('-W', pick(r, IFACE_NAMES))
    if (which.includes('V')) a.push('-V', pick(r, IFACE_ADDRS))
  }
  const wanted = int(r, 1, 3)
  for (let i = 0; i < wanted && conditions.length; i++) (conditions.splice(int(r, 0, conditions.length - 1), 1)[0] as () => unknown)()
  // -y and -k ask nothing of other protocols.
  if (proto !== 'tcp' && proto !== 'all' && chance(r, 0.06)) a.push(pick(r, ['-y', '-k']))
  if (chance(r, 0.2)) a.push('-b')
  if (src.addr || src.ports.length) a.push('-S', src.addr ?? pick(r, ANY), ...src.ports)
  if (dst.addr || dst.ports.length) a.push('-D', dst.addr ?? pick(r, ANY), ...dst.ports)
  // Side effects that must not change the verdict.
  if (chance(r, 0.05)) a.push('-o')
  if (fw && chance(r, 0.05))
    a.push(
      '-t',
      ...pick(r, [
        ['0x01', '0x10'],
        ['0xFE', '0x00'],
        ['3f', '80'],
      ]),
    )
  // -r last or before another option (a port word may follow it).
  if (target === 'redirect') a.push('-r', ...(chance(r, 0.3) ? [] : [pick(r, REDIRECT_PORTS)]))
  return [...head, ...a]
}

const genRuleSet = (r: Rng, profile: Profile): RuleSet => {
  const commands: string[][] = []
  for (const chain of ['accounting', 'input', 'forward', 'output'] as const)
    for (let i = 0; i < (profile.rules[chain] ?? 0); i++) commands.push(genRule(r, profile, chain))
  for (const chain of ['input', 'forward', 'output'] as const) {
    const policies = profile.policies[chain]
    if (policies) commands.push([CATEGORY[chain], '-p', pick(r, policies)])
  }
  return { profile, commands }
}

// ---------------------------------------------------------------------------
// The 2.0 path, from the simulator

/** A packet as one firewall sees it. */
type Fields = Pick<Packet, 'src' | 'dst' | 'proto' | 'sport' | 'dport' | 'flags' | 'type' | 'code'>

const addr = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0)

const fwPacket = (f: Fields, iface: Iface): FwPacket => ({
  saddr: addr(f.src),
  daddr: addr(f.dst),
  proto: f.proto,
  sport: f.proto === ICMP ? f.type : f.sport,
  dport: f.proto === ICMP ? f.code : f.dport,
  syn: (f.flags & F.SYN) !== 0,
  ack: (f.flags & F.ACK) !== 0,
  rst: (f.flags & F.RST) !== 0,
  iface: { name: iface, primary: addr(ifaceAddr(iface)) },
})

/** A firewall's decision on the way. */
interface Hop {
  readonly chain: Chain
  readonly pkt: Fields
  readonly iface: Iface
  readonly verdict: Verdict
  readonly what: 'packet' | 'masqueraded' | 'icmp error'
  /** What of the deciding rule (none: the policy) the packet had to match. */
  readonly decidedBy: readonly string[]
}

interface Prediction {
  readonly outcome: string
  readonly hops: readonly Hop[]
  /** Why the kernel cannot be held to the 2.0 outcome. */
  readonly excluded?: string
}

/** The options of a matching rule that had something to check in this packet. */
const features = (rule: Rule, p: FwPacket): string[] => {
  const tcp = p.proto === TCP
  const list = (n: number, range: number): string[] => (n > 2 || (n === 2 && !range) ? ['a port list'] : range ? ['a port range'] : [])
  return [
    ...(rule.vianame ? ['-W'] : []),
    ...(rule.via ? ['-V'] : []),
    ...(rule.flg & FW.BIDIR && !ruleMatches({ ...rule, flg: rule.flg & ~FW.BIDIR }, p) ? ['-b reversed'] : []),
    ...(tcp && rule.flg & FW.TCPSYN ? ['-y'] : []),
    ...(tcp && rule.flg & FW.TCPACK ? ['-k'] : []),
    ...list(rule.nsp, rule.flg & FW.SRNG),
    ...list(rule.ndp, rule.flg & FW.DRNG),
  ]
}

const passes = (v: Verdict): boolean => v === 'accept' || v === 'masquerade' || v === 'redirect'

const predict = (state: State, p: Packet): Prediction => {
  const hops: Hop[] = []
  const check = (chain: Chain, pkt: Fields, iface: Iface, what: Hop['what'] = 'packet'): Verdict => {
    const verdict = checkPacket(state, chain, fwPacket(pkt, iface))
    const hit = state.chains[chain].entries.find((e) => ruleMatches(e.rule, fwPacket(pkt, iface)))
    hops.push({ chain, pkt, iface, verdict, what, decidedBy: hit ? features(hit.rule, fwPacket(pkt, iface)) : [] })
    return verdict
  }
  // GW's ICMP error goes back through the output firewall.
  const icmpError = (outcome: string, code: number, source2_0: string): Prediction => {
    if (!answered(p)) return { outcome: 'dropped', hops }
    const error = (src: string): Fields => ({ src, dst: p.src, proto: ICMP, sport: 0, dport: 0, flags: 0, type: 3, code })
    const back = outIf(p.src)
    const sent = passes(check('output', error(source2_0), back, 'icmp error'))
    const now = passes(checkPacket(state, 'output', fwPacket(error(ifaceAddr(back)), back)))
    const excluded =
      sent === now
        ? undefined
        : `its ICMP error would be ${sent ? 'sent' : 'dropped'} from ${source2_0} (2.0), ${now ? 'sent' : 'dropped'} from ${ifaceAddr(back)} (now)`
    return { outcome: sent ? outcome : 'dropped', hops, ...(excluded ? { excluded } : {}) }
  }

  const vin = check('input', p, p.inIf)
  if (vin === 'deny') return { outcome: 'dropped', hops }
  if (vin === 'reject') return icmpError('port-unreachable', 3, isLocal(p.dst) ? p.dst : ifaceAddr(p.inIf))
  if (vin === 'redirect') {
    const hit = state.chains.input.entries.find((e) => ruleMatches(e.rule, fwPacket(p, p.inIf)))
    const port = hit ? (hit.rule.pts[hit.rule.nsp + hit.rule.ndp] ?? 0) : 0
    // An ICMP error or reply conntrack does not track cannot be redirected (docs/divergences.md).
    if (p.proto === ICMP && !ICMP_QUERY_TYPES.includes(p.type)) return { outcome: 'dropped', hops }
    const moved = p.dst !== ifaceAddr(p.inIf) || (hasPorts(p) && port !== 0 && port !== p.dport)
    return { outcome: moved ? 'redirected' : 'local', hops }
  }
  if (isLocal(p.dst)) return { outcome: 'local', hops }
  const out = outIf(p.dst)
  const vfwd = check('forward', p, out)
  if (vfwd === 'deny' || vfwd === 'redirect') return { outcome: 'dropped', hops }
  if (vfwd === 'reject') return icmpError('host-unreachable', 1, ifaceAddr(p.inIf))
  let sent: Fields = p
  let outcome = 'forwarded'
  if (vfwd === 'masquerade') {
    if (hasPorts(p) || (p.proto === ICMP && ICMP_QUERY_TYPES.includes(p.type))) {
      sent = { ...p, src: ifaceAddr(out), sport: hasPorts(p) ? MASQ_LOW : p.sport }
      outcome = 'masqueraded'
      // The generator's port lists never split the masquerade range.
      if (
        hasPorts(p) &&
        checkPacket(state, 'output', fwPacket({ ...sent, sport: MASQ_HIGH }, out)) !== checkPacket(state, 'output', fwPacket(sent, out))
      )
        throw new Error(`output verdict differs within the masquerade port range for ${describe(p)}`)
    } else if (p.proto !== ICMP) return { outcome: 'dropped', hops }
  }
  const vout = check('output', sent, out, outcome === 'masqueraded' ? 'masqueraded' : 'packet')
  // Reject in the output firewall drops (docs/divergences.md).
  return { outcome: passes(vout) ? outcome : 'dropped', hops }
}

// ---------------------------------------------------------------------------
// ipfwadm -c

/** What ipfwadm -c prints for a verdict, after its exit status (spec/legacy/ipfwadm.md §7.4). */
const CHECK_SAYS: Record<Verdict, string> = {
  accept: '0 packet accepted',
  masquerade: '255 packet masqueraded',
  deny: '0 packet denied',
  reject: '0 packet rejected',
  redirect: '255 ipfwadm: setsockopt failed: Software caused connection abort',
}

const checkArgs = (hop: Hop): string[] => {
  const { pkt, iface } = hop
  const [sport, dport] = hasPorts(pkt) ? [[String(pkt.sport)], [String(pkt.dport)]] : [[String(pkt.type)], []]
  return [
    CATEGORY[hop.chain],
    '-c',
    '-P',
    protoName(pkt),
    '-S',
    pkt.src,
    ...sport,
    '-D',
    pkt.dst,
    ...dport,
    '-W',
    iface,
    '-V',
    ifaceAddr(iface),
    ...(tcpsyn(pkt) ? ['-y'] : []),
  ]
}

/** The verdict for the packet -c describes: SYN iff -y, no ACK or RST, ICMP type 0. */
const checkVerdict = (state: State, hop: Hop): Verdict => {
  const described: Fields = { ...hop.pkt, flags: tcpsyn(hop.pkt) ? F.SYN : 0, type: 0, code: 0 }
  return checkPacket(state, hop.chain, fwPacket(described, hop.iface))
}

/**
 * Up to CLI_CHECKS hops per chain, taken from each verdict in turn so that
 * rare verdicts are checked too (no randomness: -ONLY must not shift the seed).
 */
const cliSample = (hops: readonly Hop[]): Hop[] => {
  const chosen: Hop[] = []
  for (const chain of ['input', 'forward', 'output'] as const) {
    const byVerdict = new Map<Verdict, Hop[]>()
    for (const h of hops) if (h.chain === chain && h.pkt.proto !== GRE) byVerdict.set(h.verdict, [...(byVerdict.get(h.verdict) ?? []), h])
    const queues = [...byVerdict.values()]
    for (let taken = 0; taken < CLI_CHECKS && queues.some((q) => q.length);)
      for (const q of queues) {
        const h = q.shift()
        if (h && taken < CLI_CHECKS) {
          chosen.push(h)
          taken++
        }
      }
  }
  return chosen
}

// ---------------------------------------------------------------------------
// Choosing rule sets

const pureState = async (ruleSet: RuleSet): Promise<{ state: State; failed: string[] }> => {
  const world = pureWorld()
  const failed: string[] = []
  for (const cmd of ruleSet.commands) {
    const res = await runPure(world, ['ipfwadm', ...cmd])
    if (res.status !== 0 || res.stderr) failed.push(`ipfwadm ${cmd.join(' ')}: ${res.stderr.trim()}`)
  }
  return { state: decodeState(world.fwadmStore.read()), failed }
}

const mixOf = (predictions: readonly Prediction[]): Map<string, number> => {
  const mix = new Map<string, number>()
  const add = (key: string): void => void mix.set(key, (mix.get(key) ?? 0) + 1)
  for (const pr of predictions) {
    for (const hop of pr.hops) {
      add(`${hop.chain} ${hop.verdict}`)
      for (const f of hop.decidedBy) add(`decided by ${f}`)
      if (hop.chain === 'output' && hop.what !== 'packet') add(`output sees ${hop.what}`)
    }
    add(`=> ${pr.outcome}`)
    if (pr.excluded) add('excluded')
  }
  return mix
}

/** The first of the seeded candidates whose simulated verdict mix has what the profile wants. */
const chooseRuleSet = (r: Rng, profile: Profile, packets: readonly Packet[]) =>
  chooseCandidate(async () => {
    const ruleSet = genRuleSet(r, profile)
    const { state, failed } = await pureState(ruleSet)
    if (failed.length) throw new Error(`generated commands fail in pure mode:\n${failed.join('\n')}`)
    const mix = mixOf(packets.map((p) => predict(state, p)))
    return { candidate: { ruleSet, state }, shortfall: shortfall(profile.want, packets.length, mix, 'excluded') }
  })

// ---------------------------------------------------------------------------

const missing = missingForDiff()
if (missing) t.fail(missing)
else {
  t.comment(`seed ${SEED} (LEGACYFW_DIFF_SEED=${SEED} reproduces this run)`)
  const { lab, built } = startLab(t, 'dfw')
  const rng = mulberry32(SEED)
  const started = Date.now()
  let nextId = 1000
  let total = 0
  let excluded = 0
  let cliTotal = 0
  const tally = new Map<string, number>()
  const cliTally = new Map<string, number>()
  const seenOutcomes = new Map<string, number>()

  for (const profile of built ? PROFILES : []) {
    // Masquerade and redirect need a connection to NAT.
    const flags = profile.masq || profile.redirect ? TRACKABLE_FLAGS : ALL_FLAGS
    const packets = genPackets(rng, profile, flags, connectionKey, nextId)
    nextId += packets.length
    const choice = await chooseRuleSet(rng, profile, packets)
    const only = process.env['LEGACYFW_DIFF_ONLY']
    if (only && only !== profile.name) continue
    const { ruleSet, state } = choice.candidate
    t.test(`rule set ${profile.name}`, async (t) => {
      t.comment(choiceComment(profile.name, choice))
      const began = Date.now()
      const listing = loadRuleSet(t, lab, IPFWADM, ruleSet.commands)
      if (listing === undefined) return
      const loaded = Date.now()

      const predictions = new Map(packets.map((p) => [p, predict(state, p)]))
      // ipfwadm -c against the table in the kernel.
      const sample = cliSample([...predictions.values()].filter((pr) => !pr.excluded).flatMap((pr) => pr.hops))
      // What ipfwadm -c says: "<status> <stdout><stderr>".
      const answers = (await runEach(lab, IPFWADM, sample.map(checkArgs))).map((r) => `${r.status} ${r.out}`)
      let cliMismatches = 0
      sample.forEach((hop, i) => {
        const expected = CHECK_SAYS[checkVerdict(state, hop)]
        cliTotal++
        count(cliTally, `${hop.chain} ${checkVerdict(state, hop)}`)
        if (answers[i] === expected) return
        cliMismatches++
        t.fail(`${profile.name}: ipfwadm ${checkArgs(hop).join(' ')}: expected "${expected}", got "${answers[i]}"`, {
          ruleset: listing,
          seed: SEED,
        })
      })
      if (!cliMismatches) t.pass(`${profile.name}: ${sample.length} ipfwadm -c checks print the simulator's verdict`)
      const checked = Date.now()

      const obs = await sendAndObserve(lab, packets)
      let mismatches = 0
      let skipped = 0
      const outcomes = new Map<string, number>()
      for (const p of packets) {
        const pr = predictions.get(p) as Prediction
        const got = observed(p, obs)
        total++
        if (pr.excluded) {
          excluded++
          skipped++
          t.comment(`${profile.name}: not compared: ${describe(p)}: ${pr.excluded}`)
          continue
        }
        for (const key of mixOf([pr]).keys()) if (!key.startsWith('=> ')) count(tally, key)
        if (pr.hops.some((h) => h.chain === 'forward' && h.verdict === 'masquerade') && pr.outcome !== 'dropped') {
          const kind = p.proto === ICMP ? (ICMP_QUERY_TYPES.includes(p.type) ? 'icmp query' : 'icmp other') : protoName(p)
          count(tally, `masqueraded ${kind}`)
        }
        if (pr.hops.some((h) => h.chain === 'forward' && h.verdict === 'masquerade') && p.proto === GRE) count(tally, 'masqueraded 47')
        count(outcomes, got)
        count(seenOutcomes, got)
        if (got === pr.outcome) continue
        mismatches++
        const path = pr.hops
          .map((h) => `${h.chain}${h.what === 'packet' ? '' : ` (${h.what} ${h.pkt.src} -> ${h.pkt.dst})`} on ${h.iface}: ${h.verdict}`)
          .join(', ')
        t.fail(`${profile.name}: ${describe(p)}: ${path} (expect ${pr.outcome}), kernel: ${got}`, {
          packet: describe(p),
          path,
          expected: pr.outcome,
          observed: got,
          ruleset: listing,
          seed: SEED,
        })
      }
      if (!mismatches) t.pass(`${profile.name}: ${packets.length - skipped} packets, every simulated 2.0 outcome matches the kernel`)
      t.comment(`${profile.name}: ${[...outcomes].map(([o, n]) => `${o} ${n}`).join(', ')}`)
      t.comment(
        `${profile.name}: load ${((loaded - began) / 1000).toFixed(1)} s, -c ${((checked - loaded) / 1000).toFixed(1)} s, traffic ${((Date.now() - checked) / 1000).toFixed(1)} s`,
      )
    })
  }
  if (built && !process.env['LEGACYFW_DIFF_ONLY'])
    t.test('coverage', async (t) => {
      t.ok(total >= 300, `${total} packets checked`)
      t.ok(excluded <= total * 0.05, `${excluded} packets not compared (ICMP error source)`)
      // The generator must keep reaching every verdict and outcome.
      for (const v of [
        'input accept',
        'input deny',
        'input reject',
        'input redirect',
        'forward accept',
        'forward deny',
        'forward reject',
        'forward masquerade',
        'output accept',
        'output deny',
        'output reject',
        'output sees masqueraded',
        'output sees icmp error',
      ])
        t.ok((tally.get(v) ?? 0) >= 3, `${v}: ${tally.get(v) ?? 0} packets`)
      for (const f of ['-W', '-V', '-b reversed', '-y', '-k', 'a port list', 'a port range'])
        t.ok((tally.get(`decided by ${f}`) ?? 0) >= 3, `verdicts decided by a rule with ${f}: ${tally.get(`decided by ${f}`) ?? 0}`)
      for (const v of ['masqueraded tcp', 'masqueraded udp', 'masqueraded icmp query', 'masqueraded icmp other', 'masqueraded 47'])
        t.ok((tally.get(v) ?? 0) >= 1, `forward ${v}: ${tally.get(v) ?? 0} packets`)
      for (const o of ['local', 'redirected', 'forwarded', 'masqueraded', 'dropped', 'port-unreachable', 'host-unreachable'])
        t.ok((seenOutcomes.get(o) ?? 0) >= 5, `kernel ${o}: ${seenOutcomes.get(o) ?? 0} packets`)
      t.ok(cliTotal >= 150, `${cliTotal} ipfwadm -c checks`)
      for (const v of [
        'input accept',
        'input deny',
        'input reject',
        'input redirect',
        'forward masquerade',
        'forward reject',
        'output accept',
        'output deny',
      ])
        t.ok((cliTally.get(v) ?? 0) >= 2, `ipfwadm -c ${v}: ${cliTally.get(v) ?? 0} checks`)
      t.comment(`${total} packets in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    })
}
