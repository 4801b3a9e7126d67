// The ipchains state as one nftables table that makes packets take the
// Linux 2.2 path (see spec/legacy/packet-path.md and docs/divergences.md):
//
//   input   filter prerouting -150  every arriving packet, before routing,
//                                   before de-masquerading and REDIRECT
//   forward filter forward 0        matched on the outgoing interface;
//                                   de-masqueraded replies skip it
//   output  filter postrouting 200  every departing packet, after MASQ
//   nat_pre / nat_post              carry out REDIRECT and MASQ decisions,
//                                   which the filter chains mark on the
//                                   connection with ct labels
//
// A user chain behaves differently depending on which built-in chain it is
// reached from (-i is the incoming interface only in input; MASQ, REDIRECT
// and REJECT mean different things), and 2.2 denied a packet caught in a
// chain loop where nftables refuses loops outright. So a user chain is
// rendered once per calling context and per set of chains on the call path
// that it could loop back to; in the usual case that is a single chain.
import { IPCHAINS_MASQ_LABEL as MASQ_LABEL, IPCHAINS_REDIRECT_LABELS } from '../nft/labels.ts'
import { identifierPart } from '../nft/escape.ts'
import { type Folded, foldRules } from '../nft/fold.ts'
import { type Match, NEVER, addrMatch, combine, ifaceString, rangeMatch } from '../nft/match.ts'
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
import { tosChainName, tosChains } from '../nft/tos.ts'
import type { NftBaseChain, NftChain, NftRule, NftTable } from '../nft/ir.ts'
import { quote } from '../nft/text.ts'
import { LOG_GROUP, NETLINK_COPY_GROUP, prefix22 } from '../packetlog/lines.ts'
import { encodeRule } from './codec.ts'
import {
  type Chain,
  type Policy,
  type Rule,
  type State,
  BUILTIN_CHAINS,
  DEFAULT_TIMEOUTS,
  F,
  INV,
  PROTO,
  isBuiltin,
  isSpecialTarget,
} from './model.ts'

export const TABLE_NAME = 'legacyfw_ipchains'
const [REDIRECT_LABEL_BASE, REDIRECT_LABEL_END] = IPCHAINS_REDIRECT_LABELS

export type Context = 'input' | 'forward' | 'output'

export const userChainName = (legacy: string): string => `u_${identifierPart(legacy)}`
export const policyCounter = (chain: string): string => `policy_${chain}`
/** The regular chain holding a built-in chain's rules. */
export const rulesChainName = (builtin: string): string => `${builtin}_rules`

const BASE: Record<Context, NftBaseChain> = {
  input: { type: 'filter', hook: 'prerouting', priority: '-150', policy: 'accept' },
  forward: { type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' },
  output: { type: 'filter', hook: 'postrouting', priority: '200', policy: 'accept' },
}

// ---------------------------------------------------------------------------
// Matches

const ifaceMatch = (rule: Rule, ctx: Context): Match => {
  const inverted = (rule.invflg & INV.VIA) !== 0
  const wildcard = (rule.flg & F.WILDIF) !== 0
  if (rule.vianame === '' && wildcard) return inverted ? 'never' : 'always'
  const text = ifaceString(rule.vianame, wildcard)
  // nft cannot spell this name, or no interface has it: nothing matches.
  if (text === undefined) return inverted ? 'always' : 'never'
  return `${ctx === 'input' ? 'iifname' : 'oifname'} ${inverted ? '!= ' : ''}${text}`
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' }

/** The nft matches of a legacy rule in a context, or 'never'. */
export const ruleMatches = (rule: Rule, ctx: Context): string[] | 'never' => {
  const inv = (bit: number): boolean => (rule.invflg & bit) !== 0
  const matches: Match[] = [
    ifaceMatch(rule, ctx),
    addrMatch('saddr', rule.src, rule.smsk, inv(INV.SRCIP)),
    addrMatch('daddr', rule.dst, rule.dmsk, inv(INV.DSTIP)),
  ]
  const l4: Match[] = []
  if (rule.proto === PROTO.TCP || rule.proto === PROTO.UDP) {
    const name = PROTO_NAMES[rule.proto] ?? ''
    l4.push(rangeMatch(`${name} sport`, rule.spts, inv(INV.SRCPT), 0xffff))
    l4.push(rangeMatch(`${name} dport`, rule.dpts, inv(INV.DSTPT), 0xffff))
  } else if (rule.proto === PROTO.ICMP) {
    l4.push(rangeMatch('icmp type', rule.spts, inv(INV.SRCPT), 0xff))
    l4.push(rangeMatch('icmp code', rule.dpts, inv(INV.DSTPT), 0xff))
  }
  if (rule.flg & F.TCPSYN) l4.push(`tcp flags & (syn|ack|rst) ${inv(INV.SYN) ? '!=' : '=='} syn`)
  const l4Text = l4.filter((m) => m !== 'always')
  if (rule.proto > 255) matches.push(inv(INV.PROTO) ? 'always' : 'never')
  else if (rule.proto !== 0 && (inv(INV.PROTO) || l4Text.length === 0))
    matches.push(`ip protocol ${inv(INV.PROTO) ? '!= ' : ''}${PROTO_NAMES[rule.proto] ?? rule.proto}`)
  matches.push(...l4Text)
  if (rule.flg & F.FRAG) matches.push(`ip frag-off & 0x1fff ${inv(INV.FRAG) ? '==' : '!='} 0`)
  return combine(matches)
}

// ---------------------------------------------------------------------------
// Verdicts

interface Emit {
  readonly ctx: Context
  readonly chain: string
  /** The nft chain a jump to `target` goes to, or undefined when it loops. */
  readonly jumpTarget: (target: string) => string | undefined
}

const policyStatements = (policy: Policy, ctx: Context): string[] => {
  switch (policy) {
    case 'ACCEPT':
      return ['accept']
    case 'DENY':
      return ['drop']
    case 'REJECT':
      return rejectStatements(ctx)
    case 'MASQ':
      return ctx === 'forward' ? [`jump ${MASQ_CHAIN}`] : ['accept']
  }
}

// REJECT answers port-unreachable on input and host-unreachable on forward;
// nftables cannot reject in postrouting, so output drops (docs/divergences.md).
const rejectStatements = (ctx: Context): string[] => {
  if (ctx === 'input') return ['reject with icmp type port-unreachable']
  if (ctx === 'forward') return ['reject with icmp type host-unreachable']
  return ['drop']
}

const verdictStatements = (rule: Rule, emit: Emit): string[] => {
  const { ctx } = emit
  switch (rule.label) {
    case '':
      return []
    case 'ACCEPT':
    case 'DENY':
    case 'REJECT':
    case 'MASQ':
      return policyStatements(rule.label, ctx)
    case 'REDIRECT':
      if (ctx === 'forward') return ['drop']
      if (ctx === 'output') return ['accept']
      return [`jump ${redirectChainName(rule.redirpt)}`]
    case 'RETURN':
      // From a built-in chain's rules this returns to its policy (see builtinChains).
      return ['return']
    default: {
      const target = emit.jumpTarget(rule.label)
      if (target !== undefined) return [`jump ${target}`]
      return [`log prefix ${quote(`IP firewall: Loop detected at \`${rule.label}'. `)}`, 'drop']
    }
  }
}

// ---------------------------------------------------------------------------
// Side effects: log, TOS, marks

// The head of 2.2's line up to the interface and the rule's position, for
// the runtime's formatter (translate/packetlog/lines.ts).
const logPrefix = (chain: string, rule: Rule, num: number): string => {
  const target = rule.label === '' ? '-' : rule.label === 'REDIRECT' ? `REDIRECT ${rule.redirpt}` : rule.label
  return prefix22(`Packet log: ${chain} ${target} `, num).replace(/"/g, "'")
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0')
export const markChainName = (delta: number): string => `mark_add_${hex8(delta)}`

// 2.2 added relative marks; nftables has no addition, so a helper chain
// carries out the binary addition bit by bit ("add 2^k" = flip the run of
// ones starting at bit k and the zero above it).
export const markChains = (delta: number): NftChain[] => {
  const bitsOf = (n: number): number[] => [...Array(32).keys()].filter((k) => Math.floor(n / 2 ** k) % 2 === 1)
  const negative = 2 ** 32 - delta
  // Subtracting is cheaper when the two's complement has fewer bits.
  const subtract = bitsOf(negative).length < bitsOf(delta).length
  const steps = bitsOf(subtract ? negative : delta)
  const stepChain = (k: number): NftChain => ({
    name: `mark_${subtract ? 'dec' : 'inc'}_${k}`,
    rules: [
      ...[...Array(32 - k).keys()].map((i) => {
        const j = k + i
        const run = 2 ** (j + 1) - 2 ** k
        const top = 2 ** j
        // inc: bits k..j-1 set and bit j clear; dec: bits k..j-1 clear and bit j set.
        return flipWhen(run, subtract ? top : run - top)
      }),
      // The carry (or borrow) runs off bit 31: the whole run wraps around.
      flipWhen(2 ** 32 - 2 ** k, subtract ? 0 : 2 ** 32 - 2 ** k),
    ],
  })
  return [
    { name: markChainName(delta), rules: steps.map((k) => ({ matches: [], stmts: [`jump mark_${subtract ? 'dec' : 'inc'}_${k}`] })) },
    ...steps.map(stepChain),
  ]
}

const flipWhen = (bits: number, pattern: number): NftRule => ({
  matches: [`meta mark & 0x${hex8(bits)} == 0x${hex8(pattern)}`],
  stmts: [`meta mark set meta mark ^ 0x${hex8(bits)}`, 'return'],
})

/**
 * Rendered rules by legacy rule record. A command renders the state before
 * and after it; the two share every rule it did not touch, so one cache
 * passed to both renders each of those once.
 */
export type RenderCache = WeakMap<Rule, Map<string, readonly NftRule[]>>

const renderRuleCached = (cache: RenderCache, rule: Rule, counter: string, num: number, emit: Emit): readonly NftRule[] => {
  // A jump's target depends on the chains around the rule: part of the key.
  const verdict = verdictStatements(rule, emit)
  const key = `${counter}|${num}|${emit.ctx}|${emit.chain}|${verdict.join(';')}`
  let byKey = cache.get(rule)
  if (!byKey) cache.set(rule, (byKey = new Map()))
  let rendered = byKey.get(key)
  if (!rendered) byKey.set(key, (rendered = renderRule(rule, counter, num, emit.ctx, emit.chain, verdict)))
  return rendered
}

/** One legacy rule as nft rules: effects (with the counter) then the verdict. */
const renderRule = (rule: Rule, counter: string, num: number, ctx: Context, chain: string, verdict: readonly string[]): NftRule[] => {
  const matches = ruleMatches(rule, ctx)
  const m = matches === 'never' ? [NEVER] : matches
  const effects: string[] = []
  if (rule.flg & F.PRN) effects.push(`log prefix ${quote(logPrefix(chain, rule, num))} group ${LOG_GROUP.ipchains}`)
  if (rule.flg & F.NETLINK) effects.push(`log group ${NETLINK_COPY_GROUP}${rule.outputsize !== 0xffff ? ` snaplen ${rule.outputsize}` : ''}`)
  if (rule.flg & F.MARKABS) effects.push(`meta mark set 0x${hex8(rule.mark)}`)
  const helpers: string[] = []
  if (!(rule.flg & F.MARKABS) && rule.mark !== 0) helpers.push(`jump ${markChainName(rule.mark)}`)
  if (rule.tosand !== 0xff || rule.tosxor !== 0) helpers.push(`jump ${tosChainName(rule.tosand, rule.tosxor)}`)
  const comment = encodeRule(rule)
  // A jump ends the rule, so each helper gets a rule of its own with the same
  // matches; nothing a helper changes (mark, TOS) is matched by legacy rules.
  const [firstHelper, ...moreHelpers] = helpers
  if (firstHelper === undefined) return [{ matches: m, counter, stmts: [...effects, ...verdict], comment }]
  return [
    { matches: m, counter, stmts: [...effects, firstHelper], comment },
    ...moreHelpers.map((h) => ({ matches: m, stmts: [h] })),
    ...(verdict.length ? [{ matches: m, stmts: verdict }] : []),
  ]
}

/** Targets whose nft form does not depend on anything else in the table. */
const SELF_CONTAINED_TARGETS = ['', 'ACCEPT', 'DENY', 'REJECT', 'MASQ', 'RETURN']

/**
 * The nft rules of a rule appended to a built-in chain, when they can be
 * known without reading the table: no -l (its prefix carries the rule
 * number) and a target that is not a user chain or REDIRECT (those depend
 * on the other chains). Undefined otherwise.
 */
export const appendedRule = (rule: Rule, counter: string, chain: Context): NftRule[] | undefined => {
  if (rule.flg & F.PRN || !SELF_CONTAINED_TARGETS.includes(rule.label)) return undefined
  const emit: Emit = { ctx: chain, chain, jumpTarget: () => undefined }
  return renderRule(rule, counter, 0, chain, chain, verdictStatements(rule, emit))
}

// ---------------------------------------------------------------------------
// User chain instances

type CtxClass = Context | 'in' | 'out' | 'any'

interface Graph {
  readonly chains: ReadonlyMap<string, Chain>
  /** Chains reachable from a chain by one or more jumps. */
  readonly reach: ReadonlyMap<string, ReadonlySet<string>>
  readonly classOf: (chain: string, ctx: Context) => CtxClass
}

const userTargets = (chain: Chain, chains: ReadonlyMap<string, Chain>): string[] =>
  chain.entries.map((e) => e.rule.label).filter((l) => !isSpecialTarget(l) && l !== '' && chains.has(l) && !isBuiltin(l))

const buildGraph = (state: State): Graph => {
  const chains = new Map(state.chains.map((c) => [c.name, c]))
  const reach = new Map<string, Set<string>>()
  for (const start of chains.keys()) {
    const seen = new Set<string>()
    const todo = userTargets(chains.get(start) as Chain, chains)
    while (todo.length) {
      const next = todo.pop() as string
      if (seen.has(next)) continue
      seen.add(next)
      todo.push(...userTargets(chains.get(next) as Chain, chains))
    }
    reach.set(start, seen)
  }
  const subtree = (name: string): Chain[] => [name, ...(reach.get(name) ?? [])].map((n) => chains.get(n) as Chain)
  const classOf = (name: string, ctx: Context): CtxClass => {
    const rules = subtree(name).flatMap((c) => c.entries.map((e) => e.rule))
    if (rules.some((r) => ['MASQ', 'REDIRECT', 'REJECT'].includes(r.label))) return ctx
    if (rules.some((r) => r.vianame !== '' || r.invflg & INV.VIA)) return ctx === 'input' ? 'in' : 'out'
    return 'any'
  }
  return { chains, reach, classOf }
}

/** A chain's rules as rendered for one calling context and call path. */
interface Job {
  readonly chain: string
  readonly ctx: Context
  /** Chains on the call path that this chain could jump back to. */
  readonly loopKey: readonly string[]
}

interface Instance extends Job {
  readonly cls: CtxClass
}

const instanceId = (i: Instance): string => `${i.chain}\u0000${i.cls}\u0000${i.loopKey.join('\u0000')}`

const CLASS_TAG: Record<CtxClass, string> = { input: 'in', forward: 'fwd', output: 'out', in: 'in', out: 'out', any: 'any' }

/** The instance a rule of `from` jumping to `target` goes to; undefined when the jump loops. */
const jumpInstance = (graph: Graph, from: Job, target: string): Instance | undefined => {
  if (target === from.chain || from.loopKey.includes(target) || !graph.chains.has(target)) return undefined
  const reach = graph.reach.get(target) ?? new Set()
  const loopKey = [...new Set([...from.loopKey, from.chain])].filter((c) => reach.has(c) && !isBuiltin(c)).sort()
  return { chain: target, ctx: from.ctx, cls: graph.classOf(target, from.ctx), loopKey }
}

interface InstancePlan {
  /** nft chain names by instance id. */
  readonly names: ReadonlyMap<string, string>
  /** The variants (instances beyond the definitions), in the order first jumped to. */
  readonly variants: readonly Instance[]
}

/**
 * Every user chain instance and its name, before anything is rendered. The
 * jobs are visited in rendering order (built-in chains, definitions, then
 * variants as found), so variant numbers are those of the rendered table.
 */
const planInstances = (graph: Graph, roots: readonly Job[], definitions: readonly Instance[]): InstancePlan => {
  const names = new Map(definitions.map((d) => [instanceId(d), userChainName(d.chain)]))
  const variantCount = new Map<string, number>()
  const variants: Instance[] = []
  const jobs: Job[] = [...roots, ...definitions]
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i] as Job
    const labels = (graph.chains.get(job.chain) as Chain).entries.map((e) => e.rule.label)
    for (const label of labels.filter((l) => l !== '' && !isSpecialTarget(l))) {
      const inst = jumpInstance(graph, job, label)
      if (!inst || names.has(instanceId(inst))) continue
      const base = `${userChainName(inst.chain)}/${CLASS_TAG[inst.cls]}`
      const n = inst.loopKey.length ? (variantCount.get(base) ?? 0) + 1 : 0
      if (n) variantCount.set(base, n)
      names.set(instanceId(inst), n ? `${base}/${n}` : base)
      variants.push(inst)
      jobs.push(inst)
    }
  }
  return { names, variants }
}

export const renderState = (state: State, cache: RenderCache = new WeakMap()): NftTable => {
  const graph = buildGraph(state)
  const redirectPorts = state.chains.flatMap((c) => c.entries.filter((e) => e.rule.label === 'REDIRECT').map((e) => e.rule.redirpt))
  const redirectLabels = redirectLabelsFor(redirectPorts, REDIRECT_LABEL_BASE, REDIRECT_LABEL_END)

  const primaryCtx = (name: string): Context =>
    (['input', 'forward', 'output'] as const).find((root) =>
      userTargets(graph.chains.get(root) as Chain, graph.chains).some((t) => t === name || graph.reach.get(t)?.has(name)),
    ) ?? 'input'
  const roots: Job[] = BUILTIN_CHAINS.map((name) => ({ chain: name, ctx: name, loopKey: [] }))
  const definitions: Instance[] = state.chains
    .filter((c) => !isBuiltin(c.name))
    .map((c) => {
      const ctx = primaryCtx(c.name)
      return { chain: c.name, ctx, cls: graph.classOf(c.name, ctx), loopKey: [] }
    })
  const plan = planInstances(graph, roots, definitions)

  const emitFor = (job: Job): Emit => ({
    ctx: job.ctx,
    chain: job.chain,
    jumpTarget: (target) => {
      const inst = jumpInstance(graph, job, target)
      return inst && plan.names.get(instanceId(inst))
    },
  })

  // Each nft chain of legacy rules, runs folded (nft/fold.ts); the maps and records chains collected.
  const folds: Folded[] = []
  const rulesChain = (name: string, job: Job): NftChain => {
    const emit = emitFor(job)
    const folded = foldRules(
      name,
      (graph.chains.get(job.chain) as Chain).entries.map((e, i) => renderRuleCached(cache, e.rule, e.counter, i + 1, emit)),
    )
    folds.push(folded)
    return { name, rules: folded.rules }
  }

  // A built-in chain is a base chain that jumps to its rules (a chain of
  // their own, so a rule can be appended without knowing what is there) and
  // then applies the policy to what comes back.
  const baseChains: NftChain[] = BUILTIN_CHAINS.map((name) => {
    const policy = graph.chains.get(name)?.policy ?? 'ACCEPT'
    const prologue = name === 'forward' ? forwardPrologue(MASQ_LABEL, '2.2') : []
    const policyRule: NftRule = { matches: [], counter: policyCounter(name), stmts: policyStatements(policy, name), comment: `policy ${policy}` }
    return { name, base: BASE[name], rules: [...prologue, { matches: [], stmts: [`jump ${rulesChainName(name)}`] }, policyRule] }
  })
  const builtinRules: NftChain[] = roots.map((job) => rulesChain(rulesChainName(job.chain), job))
  const definitionChains: NftChain[] = definitions.map((d) => rulesChain(userChainName(d.chain), d))
  const instanceChains: NftChain[] = dedupeByName(plan.variants.map((v) => rulesChain(plan.names.get(instanceId(v)) as string, v)))
  const foldMaps = dedupeByName(folds.flatMap((f) => f.maps))

  const allRules = state.chains.flatMap((c) => c.entries.map((e) => e.rule))
  const masqUsed = allRules.some((r) => r.label === 'MASQ') || graph.chains.get('forward')?.policy === 'MASQ'
  const timeoutsChanged = JSON.stringify(state.timeouts) !== JSON.stringify(DEFAULT_TIMEOUTS)
  const ctTimeouts = masqUsed || timeoutsChanged ? masqTimeoutObjects(state.timeouts, '2.2') : []
  const natChains: NftChain[] = [
    ...(redirectLabels.size ? [redirectChain(redirectLabels)] : []),
    ...(masqUsed ? [masqChain(MASQ_LABEL, ctTimeouts, '2.2')] : []),
  ]
  const verdictChains: NftChain[] = [
    ...(masqUsed ? [natVerdictChain(MASQ_CHAIN, MASQ_LABEL, 'MASQ')] : []),
    ...[...redirectLabels].map(([port, label]) => natVerdictChain(redirectChainName(port), label, `REDIRECT ${port}`)),
  ]
  const helperChains = [
    ...new Map(
      allRules.filter((r) => r.tosand !== 0xff || r.tosxor !== 0).map((r) => [tosChainName(r.tosand, r.tosxor), tosChains(r.tosand, r.tosxor)]),
    ).values(),
    ...new Map(allRules.filter((r) => !(r.flg & F.MARKABS) && r.mark !== 0).map((r) => [r.mark, markChains(r.mark)])).values(),
  ].flat()

  return {
    family: 'ip',
    name: TABLE_NAME,
    comment: 'ipchains rules (Linux 2.2 semantics) managed by legacyfw; list them with ipchains -L',
    sets: [],
    ...(foldMaps.length ? { counterMaps: foldMaps } : {}),
    counters: [...BUILTIN_CHAINS.map(policyCounter), ...state.chains.flatMap((c) => c.entries.map((e) => e.counter))],
    ctTimeouts,
    chains: [
      ...baseChains,
      ...natChains,
      ...verdictChains,
      ...builtinRules,
      ...definitionChains,
      ...instanceChains,
      ...dedupeByName(helperChains),
      ...dedupeByName(folds.flatMap((f) => f.records)),
    ],
  }
}

const dedupeByName = <T extends { readonly name: string }>(items: readonly T[]): T[] => [...new Map(items.map((c) => [c.name, c])).values()]
