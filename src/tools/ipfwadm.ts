// ipfwadm: parse and validate (pure), then one kernel transaction, a check,
// or a listing read from the kernel.
import { resolveHosts } from '../translate/common/listnames.ts'
import { type MasqForwarding, masqEntriesFromConntrack } from '../translate/common/masq.ts'
import { decodeState } from '../translate/ipfwadm/decode.ts'
import { execute } from '../translate/ipfwadm/execute.ts'
import { fastAppendText } from '../translate/ipfwadm/fastpath.ts'
import { formatMasq, listedAddresses } from '../translate/ipfwadm/list.ts'
import {
  MASQ_LISTING_TITLE,
  cannotOpenProcFile,
  kernelError,
  setsockoptFailed,
  socketCreationFailed,
  unexpectedInputData,
} from '../translate/ipfwadm/messages.ts'
import { type Category, type State, CATEGORIES, FW, INITIAL_STATE } from '../translate/ipfwadm/model.ts'
import { CMD, OPT, parseInvocation } from '../translate/ipfwadm/parse.ts'
import { renderState } from '../translate/ipfwadm/render.ts'
import type { Interfaces } from '../translate/ipfwadm/via.ts'
import { type Command, validate } from '../translate/ipfwadm/validate.ts'
import { Unsupported } from '../translate/nft/nat.ts'
import { CommitRejected, KernelUnavailable, type TableStore, transact } from '../runtime/store.ts'
import { NftMissing } from '../runtime/nft.ts'
import type { Sys } from '../runtime/sys.ts'
import { freshCounter, permissionDenied, print, runCommand, withDoctorHint } from './output.ts'

/** The kernel as ipfwadm sees it. */
export interface FwadmWorld {
  readonly store: TableStore
  /** conntrack table lines, or undefined if it cannot be read. */
  readonly conntrack: () => string | undefined
  /** What the ipautofw/ipmasqadm tables forward (their connections are masq entries too). */
  readonly forwarding: () => MasqForwarding
  /** The interfaces and their primary IPv4 addresses. */
  readonly interfaces: () => Interfaces
  /** Called after a commit that leaves -V rules in the table (keeps their sets current). */
  readonly watchVia?: () => void
  /** Called after a commit that leaves logging rules (their lines need the runtime); absent in the sandbox. */
  readonly startRuntime?: () => void
}

// Did the command change what the kernel holds? States are updated
// immutably, so an untouched rule is the same object.
const sameStructure = (a: State, b: State): boolean =>
  JSON.stringify(a.timeouts) === JSON.stringify(b.timeouts) &&
  CATEGORIES.every((c) => {
    const x = a.chains[c]
    const y = b.chains[c]
    return x.policy === y.policy && x.entries.length === y.entries.length && x.entries.every((e, i) => e.rule === y.entries[i]?.rule)
  })

const logsPackets = (state: State): boolean => CATEGORIES.some((c) => state.chains[c].entries.some((e) => (e.rule.flg & FW.PRN) !== 0))
const usesVia = (state: State): boolean => CATEGORIES.some((c) => state.chains[c].entries.some((e) => e.rule.via !== 0))

const listMasq = async (cmd: Command, sys: Sys, world: FwadmWorld): Promise<number> => {
  const text = world.conntrack()
  if (text === undefined) return print(sys, { stdout: '', stderr: cannotOpenProcFile(sys.program, 'masquerading'), status: 1 })
  const entries = masqEntriesFromConntrack(text, world.forwarding())
  const numeric = (cmd.inv.options & OPT.NUMERIC) !== 0
  const names = await resolveHosts(sys.names(), numeric ? [] : entries.flatMap((e) => [e.src, e.dst]))
  sys.out(MASQ_LISTING_TITLE)
  const listing = formatMasq(entries, numeric, (cmd.inv.options & OPT.EXTENDED) !== 0, names)
  if (listing === undefined) throw unexpectedInputData(sys.program)
  sys.out(listing)
  return 0
}

const list = async (cmd: Command, category: Category, sys: Sys, world: FwadmWorld): Promise<number> => {
  let state = decodeState(world.store.read())
  const chain = state.chains[category]
  if (cmd.inv.command & CMD.RESET) {
    // Read-and-zero: the listing shows the values the counters had when zeroed.
    const counts = world.store.resetCounters(chain.entries.map((e) => e.counter))
    const entries = chain.entries.map((e) => ({ ...e, counts: counts.get(e.counter) ?? e.counts }))
    state = { ...state, chains: { ...state.chains, [category]: { ...chain, entries } } }
  }
  const numeric = (cmd.inv.options & OPT.NUMERIC) !== 0
  const names = await resolveHosts(sys.names(), numeric ? [] : listedAddresses(chain))
  return print(sys, execute(cmd, state, { names, interfaces: new Map() }))
}

const change = async (cmd: Command, sys: Sys, world: FwadmWorld): Promise<number> => {
  const names = await resolveHosts(sys.names(), [])
  const ctx = { names, interfaces: new Map() }
  const fast = world.store.addOnly ? fastAppendText(cmd, freshCounter) : undefined
  if (fast !== undefined && world.store.addOnly?.(fast)) {
    const appended = execute(cmd, INITIAL_STATE, ctx)
    if (logsPackets(appended.state)) world.startRuntime?.()
    return print(sys, appended)
  }
  let via = false
  let logs = false
  const outcome = transact(world.store, (current) => {
    const before = decodeState(current)
    const result = execute(cmd, before, ctx)
    if (sameStructure(before, result.state)) return { result }
    via = usesVia(result.state)
    logs = logsPackets(result.state)
    const interfaces = via || usesVia(before) ? world.interfaces() : new Map()
    return { next: renderState(result.state, interfaces), previous: () => renderState(before, interfaces), result }
  })
  world.store.resetCounters(outcome.zeroed)
  if (via) world.watchVia?.()
  if (logs) world.startRuntime?.()
  return print(sys, outcome)
}

/** Why the kernel could not be used, in ipfwadm's words. */
const unavailable = (sys: Sys, e: KernelUnavailable | NftMissing, cmd: Command): number => {
  const target = cmd.inv.target
  if (cmd.inv.command & CMD.LIST && target !== undefined)
    return print(sys, { stdout: '', stderr: withDoctorHint(cannotOpenProcFile(sys.program, target), e), status: 1 })
  return print(sys, { stdout: '', stderr: withDoctorHint(socketCreationFailed(permissionDenied(e)), e), status: 1 })
}

const run = async (args: readonly string[], sys: Sys, world: FwadmWorld): Promise<number> => {
  const names = sys.names()
  const inv = await parseInvocation(sys.program, args, names)
  const cmd = await validate(inv, sys.program, names)
  try {
    if (cmd.category === undefined) {
      if (cmd.inv.command & CMD.LIST) return await listMasq(cmd, sys, world)
      return await change(cmd, sys, world)
    }
    if (cmd.inv.command & CMD.LIST) return await list(cmd, cmd.category, sys, world)
    if (cmd.inv.command === CMD.CHECK) {
      const ctx = { names: await resolveHosts(names, []), interfaces: world.interfaces() }
      return print(sys, execute(cmd, decodeState(world.store.read()), ctx))
    }
    return await change(cmd, sys, world)
  } catch (e) {
    if (e instanceof CommitRejected) return print(sys, { stdout: '', stderr: setsockoptFailed(e.reason), status: 255 })
    if (e instanceof Unsupported) return print(sys, { stdout: '', stderr: kernelError(e.message), status: 1 })
    if (e instanceof KernelUnavailable || e instanceof NftMissing) return unavailable(sys, e, cmd)
    throw e
  }
}

export const ipfwadmMain = (args: readonly string[], sys: Sys, world: FwadmWorld): Promise<number> =>
  runCommand('ipfwadm', sys, () => run(args, sys, world))
