// The ipfwadm state as one nftables table that makes packets take the
// Linux 2.0 path (spec/legacy/packet-path.md section 1):
//
//   acct_in   filter prerouting -155   incoming accounting, before the input
//                                      firewall (dropped packets count too)
//   input     filter prerouting -150   every arriving packet, before routing,
//                                      de-masquerading and redirection
//   forward   filter forward 0         matched on the outgoing interface;
//                                      de-masqueraded replies skip it
//   output    filter postrouting 200   every departing packet, after MASQ
//   acct_out  filter postrouting 250   outgoing accounting, at transmit
//   nat_pre / nat_post                 carry out redirect and masquerade
//                                      decisions marked with ct labels
//
// Each built-in chain jumps to <name>_rules, which holds the rules in order
// (one nft rule per legacy rule, more where nft needs alternatives). The
// accounting list is acct_in_rules; acct_out_rules counts the same rules'
// outgoing traffic into the same named counters.
//
// -V (interface address): see via.ts.
import { IPFWADM_MASQ_LABEL as MASQ_LABEL, IPFWADM_REDIRECT_LABELS } from '../nft/labels.ts'
import { type Folded, foldRules } from '../nft/fold.ts'
import { type Match, NEVER, addrMatch, combine, ifaceString } from '../nft/match.ts'
import {
  MASQ_CHAIN,
  forwardPrologue,
  masqChain,
  masqTimeoutObjects,
  natVerdictChain,
  redirectChain,
  redirectChainName,
  redirectLabels as redirectLabelsFor,
} from '../nft/nat.ts'
import type { NftBaseChain, NftChain, NftRule, NftSet, NftTable } from '../nft/ir.ts'
import { quote } from '../nft/text.ts'
import { LOG_GROUP } from '../packetlog/lines.ts'
import { tosChainName, tosChains } from '../nft/tos.ts'
import { encodeRule } from './codec.ts'
import { type Interfaces, viaElements, viaSetName } from './via.ts'
import { type Category, type Entry, type Firewall, type Rule, type State, DEFAULT_TIMEOUTS, FW, KIND, kindOf, policyName } from './model.ts'

export const TABLE_NAME = 'legacyfw_ipfwadm'
const [REDIRECT_LABEL_BASE, REDIRECT_LABEL_END] = IPFWADM_REDIRECT_LABELS

type Hook = Firewall | 'acct_in' | 'acct_out'

const BASE: Record<Hook, NftBaseChain> = {
  acct_in: { type: 'filter', hook: 'prerouting', priority: '-155', policy: 'accept' },
  input: { type: 'filter', hook: 'prerouting', priority: '-150', policy: 'accept' },
  forward: { type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' },
  output: { type: 'filter', hook: 'postrouting', priority: '200', policy: 'accept' },
  acct_out: { type: 'filter', hook: 'postrouting', priority: '250', policy: 'accept' },
}
const HOOKS = ['acct_in', 'input', 'forward', 'output', 'acct_out'] as const
const FIREWALLS = ['input', 'forward', 'output'] as const

export const rulesChainName = (hook: Hook): string => `${hook}_rules`
/** Accounting rules that must count once but need several nft rules. */
export const acctHelperName = (counter: string, hook: 'acct_in' | 'acct_out'): string => `${hook}_${counter}`
const POLICY_PREFIX = 'policy '

// ---------------------------------------------------------------------------
// Matches

/** Does the hook see the receiving interface (else the outgoing one)? */
const incoming = (hook: Hook): boolean => hook === 'input' || hook === 'acct_in'

/**
 * A port list as an nft value: the union of its range and single ports,
 * clipped to the field's largest value; 'always' when it is everything.
 */
export const portSet = (ports: readonly number[], range: boolean, max: number): string | 'always' | 'never' => {
  if (ports.length === 0) return 'always'
  const intervals: [number, number][] = range
    ? [[ports[0] ?? 0, ports[1] ?? 0], ...ports.slice(2).map((p): [number, number] => [p, p])]
    : ports.map((p): [number, number] => [p, p])
  const clipped = intervals.filter(([lo]) => lo <= max).map(([lo, hi]): [number, number] => [lo, Math.min(hi, max)])
  clipped.sort((a, b) => a[0] - b[0])
  const merged: [number, number][] = []
  for (const [lo, hi] of clipped) {
    const last = merged[merged.length - 1]
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi)
    else merged.push([lo, hi])
  }
  if (merged.length === 0) return 'never'
  if (merged.length === 1 && merged[0]?.[0] === 0 && merged[0]?.[1] === max) return 'always'
  const items = merged.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`))
  return items.length === 1 ? (items[0] as string) : `{ ${items.join(', ')} }`
}

const portMatch = (field: string, set: string | 'always' | 'never'): Match => (set === 'always' || set === 'never' ? set : `${field} ${set}`)

const PROTO = ['', 'tcp', 'udp', 'icmp'] as const

/** Matches for one direction of a rule (reverse = the -b direction). */
const directionMatches = (rule: Rule, hook: Hook, reverse: boolean): Match[] => {
  const kind = kindOf(rule)
  const srcPorts = portSet(rule.pts.slice(0, rule.nsp), (rule.flg & FW.SRNG) !== 0, kind === KIND.ICMP ? 0xff : 0xffff)
  const dstPorts = portSet(rule.pts.slice(rule.nsp, rule.nsp + rule.ndp), (rule.flg & FW.DRNG) !== 0, 0xffff)
  const [sField, dField] = reverse ? (['daddr', 'saddr'] as const) : (['saddr', 'daddr'] as const)
  const matches: Match[] = [addrMatch(sField, rule.src, rule.smsk, false), addrMatch(dField, rule.dst, rule.dmsk, false)]
  const dev = incoming(hook) ? 'iifname' : 'oifname'
  if (rule.via !== 0) matches.push(`${dev} @${viaSetName(rule.via)}`)
  if (rule.vianame !== '') {
    const name = ifaceString(rule.vianame, false)
    matches.push(name === undefined ? 'never' : `${dev} ${name}`)
  }
  const proto = PROTO[kind] ?? ''
  const l4: Match[] = []
  if (kind === KIND.ICMP) l4.push(portMatch('icmp type', srcPorts))
  else if (kind !== KIND.ALL) {
    const [sp, dp] = reverse ? (['dport', 'sport'] as const) : (['sport', 'dport'] as const)
    l4.push(portMatch(`${proto} ${sp}`, srcPorts), portMatch(`${proto} ${dp}`, dstPorts))
  }
  if (kind === KIND.TCP) l4.push(...tcpFlagMatches(rule))
  const l4Text = l4.filter((m) => m !== 'always')
  if (kind !== KIND.ALL && l4Text.length === 0) matches.push(`ip protocol ${proto}`)
  return [...matches, ...l4Text]
}

// -y: SYN without ACK or RST; -k: ACK or RST. Only TCP packets are tested.
const tcpFlagMatches = (rule: Rule): string[] => [
  ...(rule.flg & FW.TCPSYN ? ['tcp flags & (syn|ack|rst) == syn'] : []),
  ...(rule.flg & FW.TCPACK ? ['tcp flags & (ack|rst) != 0'] : []),
]

/**
 * The rule's matches as alternatives (a packet matches the rule when it
 * matches any of them): the -b reverse direction, and for protocol "all"
 * with -y/-k the non-TCP packets, which those flags never exclude.
 */
export const ruleAlternatives = (rule: Rule, hook: Hook): (readonly string[])[] => {
  const directions = rule.flg & FW.BIDIR ? [false, true] : [false]
  const flagSplit = kindOf(rule) === KIND.ALL && tcpFlagMatches(rule).length > 0
  const variants: Match[][] = flagSplit ? [['meta l4proto != tcp'], tcpFlagMatches(rule)] : [[]]
  return directions.flatMap((reverse) =>
    variants.flatMap((extra) => {
      const combined = combine([...directionMatches(rule, hook, reverse), ...extra])
      return combined === 'never' ? [] : [combined]
    }),
  )
}

// ---------------------------------------------------------------------------
// Verdicts and side effects

/** What a verdict word ("policy" bits or a rule's flags) does in a firewall chain. */
export const verdictStatements = (flags: number, hook: Firewall, redirectPort: number): string[] => {
  if (flags & FW.ACCEPT) {
    if (flags & FW.REDIR) {
      if (hook === 'input') return [`jump ${redirectChainName(redirectPort)}`]
      return hook === 'forward' ? ['drop'] : ['accept']
    }
    if (flags & FW.MASQ && hook === 'forward') return [`jump ${MASQ_CHAIN}`]
    return ['accept']
  }
  if (flags & FW.ICMPRPL) {
    if (hook === 'input') return ['reject with icmp type port-unreachable']
    // nftables cannot reject in postrouting (docs/divergences.md).
    return hook === 'forward' ? ['reject with icmp type host-unreachable'] : ['drop']
  }
  return ['drop']
}

const redirectPortOf = (rule: Rule): number => rule.pts[rule.nsp + rule.ndp] ?? 0

const LOG_CHAIN: Record<Hook, string> = { input: 'fw-in', forward: 'fw-fwd', output: 'fw-out', acct_in: 'acct in', acct_out: 'acct out' }

// The kernel's log line starts "IP fw-in acc " (the action as 2.0 wrote it).
const logPrefix = (rule: Rule, hook: Hook): string => {
  if (hook === 'acct_in' || hook === 'acct_out') return `IP ${LOG_CHAIN[hook]} `
  const f = rule.flg
  const action =
    f & FW.ACCEPT ? (f & FW.REDIR ? `acc/r${redirectPortOf(rule)}` : f & FW.MASQ ? 'acc/masq' : 'acc') : f & FW.ICMPRPL ? 'rej' : 'deny'
  return `IP ${LOG_CHAIN[hook]} ${action} `
}

const hasTos = (rule: Rule): boolean => (rule.flg & FW.ACCEPT) !== 0 && (rule.tosand !== 0xff || rule.tosxor !== 0)

/** One firewall rule as nft rules: an alternative per rule, all counting into its counter. */
const firewallRules = (entry: Entry, hook: Firewall): NftRule[] => {
  const { rule, counter } = entry
  const comment = encodeRule(rule, false)
  const effects = rule.flg & FW.PRN ? [`log prefix ${quote(logPrefix(rule, hook))} group ${LOG_GROUP.ipfwadm}`] : []
  const verdict = verdictStatements(rule.flg, hook, redirectPortOf(rule))
  const alternatives = ruleAlternatives(rule, hook)
  if (alternatives.length === 0) return [{ matches: [NEVER], counter, stmts: [], comment }]
  return alternatives.flatMap((matches, i) => {
    const own = i === 0 ? { comment } : {}
    // A jump ends the rule: the TOS helper gets a rule of its own, the verdict follows.
    if (!hasTos(rule)) return [{ matches, counter, stmts: [...effects, ...verdict], ...own }]
    return [
      { matches, counter, stmts: [...effects, `jump ${tosChainName(rule.tosand, rule.tosxor)}`], ...own },
      { matches, stmts: verdict },
    ]
  })
}

type AcctHook = 'acct_in' | 'acct_out'

const countsIn = (rule: Rule, hook: AcctHook): boolean => !(rule.flg & (hook === 'acct_in' ? FW.ACCTOUT : FW.ACCTIN))

/**
 * One accounting rule in one direction: a counting rule, or a jump to a
 * helper chain when it needs several (a packet must count once). The
 * incoming list carries the record of every rule, counting or not.
 */
const accountingRules = (entry: Entry, hook: AcctHook): { rules: NftRule[]; helper?: NftChain } => {
  const { rule, counter } = entry
  const comment = hook === 'acct_in' ? { comment: encodeRule(rule, true) } : {}
  const alternatives = countsIn(rule, hook) ? ruleAlternatives(rule, hook) : []
  const effects = rule.flg & FW.PRN ? [`log prefix ${quote(logPrefix(rule, hook))} group ${LOG_GROUP.ipfwadm}`] : []
  if (alternatives.length === 0) return { rules: hook === 'acct_in' ? [{ matches: [NEVER], counter, stmts: [], ...comment }] : [] }
  if (alternatives.length === 1) return { rules: [{ matches: alternatives[0] ?? [], counter, stmts: effects, ...comment }] }
  const helper = acctHelperName(counter, hook)
  return {
    rules: [{ matches: [], stmts: [`jump ${helper}`], ...comment }],
    helper: { name: helper, rules: alternatives.map((matches) => ({ matches, counter, stmts: [...effects, 'return'] })) },
  }
}

/**
 * The nft rules a rule appended to `category` adds to each rules chain, when
 * no other object has to be created for it (a helper chain, a set, a nat
 * chain): what the read-free append sends. Undefined otherwise.
 */
export const appendedRules = (entry: Entry, category: Category): Map<string, NftRule[]> | undefined => {
  const { rule } = entry
  if (rule.via !== 0 || rule.flg & FW.REDIR) return undefined
  if (category !== 'accounting') return new Map([[rulesChainName(category), firewallRules(entry, category)]])
  const parts = (['acct_in', 'acct_out'] as const).map((hook) => [hook, accountingRules(entry, hook)] as const)
  if (parts.some(([, p]) => p.helper)) return undefined
  return new Map(parts.map(([hook, p]) => [rulesChainName(hook), p.rules]))
}

// ---------------------------------------------------------------------------
// The table

const policyRule = (policy: number, hook: Firewall): NftRule => ({
  matches: [],
  stmts: verdictStatements(policy, hook, 0),
  comment: `${POLICY_PREFIX}${policyName(policy)}`,
})

/** The policy a base chain's policy rule comment names. */
export const policyFromComment = (comment: string | undefined): number | undefined => {
  const name = comment?.startsWith(POLICY_PREFIX) ? comment.slice(POLICY_PREFIX.length) : undefined
  const policies = [FW.ACCEPT, FW.ACCEPT | FW.MASQ, FW.ICMPRPL, 0]
  return policies.find((p) => policyName(p) === name)
}

const baseChain = (hook: Hook, state: State): NftChain => {
  const jump: NftRule = { matches: [], stmts: [`jump ${rulesChainName(hook)}`] }
  if (hook === 'acct_in' || hook === 'acct_out') return { name: hook, base: BASE[hook], rules: [jump] }
  const prologue = hook === 'forward' ? forwardPrologue(MASQ_LABEL, '2.0') : []
  return { name: hook, base: BASE[hook], rules: [...prologue, jump, policyRule(state.chains[hook].policy, hook)] }
}

const viaSets = (state: State, interfaces: Interfaces): NftSet[] => {
  const addrs = new Set(Object.values(state.chains).flatMap((c) => c.entries.map((e) => e.rule.via).filter((v) => v !== 0)))
  return [...addrs].sort((a, b) => a - b).map((addr) => ({ name: viaSetName(addr), type: 'ifname', elements: viaElements(addr, interfaces) }))
}

export const renderState = (state: State, interfaces: Interfaces): NftTable => {
  const { chains } = state
  const allRules = Object.values(chains).flatMap((c) => c.entries.map((e) => e.rule))
  const redirectRules = chains.input.entries.filter((e) => e.rule.flg & FW.ACCEPT && e.rule.flg & FW.REDIR)
  const redirectLabels = redirectLabelsFor(
    redirectRules.map((e) => redirectPortOf(e.rule)),
    REDIRECT_LABEL_BASE,
    REDIRECT_LABEL_END,
  )

  // Each rules chain with its runs folded (nft/fold.ts); the maps and records chains collected.
  const folds: Folded[] = []
  const rulesChain = (hook: Hook, groups: readonly (readonly NftRule[])[]): NftChain => {
    const folded = foldRules(rulesChainName(hook), groups)
    folds.push(folded)
    return { name: rulesChainName(hook), rules: folded.rules }
  }
  const acct = (['acct_in', 'acct_out'] as const).map((hook) => {
    const parts = chains.accounting.entries.map((e) => accountingRules(e, hook))
    return {
      rules: rulesChain(
        hook,
        parts.map((p) => p.rules),
      ),
      helpers: parts.flatMap((p) => (p.helper ? [p.helper] : [])),
    }
  })
  const firewallChains: NftChain[] = FIREWALLS.map((hook) =>
    rulesChain(
      hook,
      chains[hook].entries.map((e) => firewallRules(e, hook)),
    ),
  )
  const foldMaps = folds.flatMap((f) => f.maps)

  const masqUsed = chains.forward.policy & FW.MASQ || chains.forward.entries.some((e) => e.rule.flg & FW.ACCEPT && e.rule.flg & FW.MASQ)
  const timeoutsChanged = JSON.stringify(state.timeouts) !== JSON.stringify(DEFAULT_TIMEOUTS)
  const ctTimeouts = masqUsed || timeoutsChanged ? masqTimeoutObjects(state.timeouts, '2.0') : []
  const natChains: NftChain[] = [
    // 2.0 delivered a redirected packet of any protocol locally (docs/divergences.md).
    ...(redirectLabels.size ? [redirectChain(redirectLabels, true)] : []),
    ...(masqUsed ? [masqChain(MASQ_LABEL, ctTimeouts, '2.0')] : []),
  ]
  const verdictChains: NftChain[] = [
    ...(masqUsed ? [natVerdictChain(MASQ_CHAIN, MASQ_LABEL, 'masquerade')] : []),
    ...[...redirectLabels].map(([port, label]) => natVerdictChain(redirectChainName(port), label, `redirect ${port}`, 'any')),
  ]
  const tosHelpers = new Map(allRules.filter(hasTos).map((r) => [tosChainName(r.tosand, r.tosxor), tosChains(r.tosand, r.tosxor)]))

  return {
    family: 'ip',
    name: TABLE_NAME,
    comment: 'ipfwadm rules (Linux 2.0 semantics) managed by legacyfw; list them with ipfwadm -l',
    sets: viaSets(state, interfaces),
    ...(foldMaps.length ? { counterMaps: foldMaps } : {}),
    counters: [...chains.accounting.entries, ...FIREWALLS.flatMap((h) => chains[h].entries)].map((e) => e.counter),
    ctTimeouts,
    chains: [
      ...HOOKS.map((hook) => baseChain(hook, state)),
      ...natChains,
      ...verdictChains,
      ...(acct[0] ? [acct[0].rules] : []),
      ...firewallChains,
      ...(acct[1] ? [acct[1].rules] : []),
      ...acct.flatMap((a) => a.helpers),
      ...[...tosHelpers.values()].flat(),
      ...folds.flatMap((f) => f.records),
    ],
  }
}
