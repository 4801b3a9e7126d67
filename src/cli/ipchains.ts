// ipchains: parse and validate (pure), then one kernel transaction or a
// listing read from the kernel.
import { Exit } from '../translate/common/exit.ts'
import { resolveHosts } from '../translate/common/listnames.ts'
import { masqEntriesFromConntrack } from '../translate/common/masq.ts'
import { DecodeError, decodeState } from '../translate/ipchains/decode.ts'
import { type Outcome, execute } from '../translate/ipchains/execute.ts'
import { formatMasq, listedAddresses } from '../translate/ipchains/list.ts'
import { otherProblem } from '../translate/ipchains/messages.ts'
import type { State } from '../translate/ipchains/model.ts'
import { CMD, OPT, parseInvocation } from '../translate/ipchains/parse.ts'
import { Unsupported, renderState } from '../translate/ipchains/render.ts'
import { type Command, validate } from '../translate/ipchains/validate.ts'
import { CommitRejected, KernelUnavailable, type TableStore, transact } from '../runtime/store.ts'
import { NftMissing } from '../runtime/nft.ts'
import type { Sys } from '../runtime/sys.ts'

/** The kernel as ipchains sees it. */
export interface ChainsWorld {
  readonly store: TableStore
  /** conntrack table lines, or undefined if it cannot be read. */
  readonly conntrack: () => string | undefined
}

// The rules and policies as the kernel holds them, without the counters.
const structure = (state: State): string =>
  JSON.stringify({ chains: state.chains.map((c) => ({ ...c, policyCounts: 0, entries: c.entries.map((e) => ({ ...e, counts: 0 })) })), t: state.timeouts })

const print = (sys: Sys, outcome: Pick<Outcome, 'stdout' | 'stderr' | 'status'>): number => {
  if (outcome.stdout) sys.out(outcome.stdout)
  if (outcome.stderr) sys.err(outcome.stderr)
  return outcome.status
}

const listMasq = async (cmd: Command, sys: Sys, world: ChainsWorld): Promise<number> => {
  const text = world.conntrack()
  if (text === undefined) throw otherProblem(sys.program, "cannot open file `/proc/net/ip_masquerade'")
  const entries = masqEntriesFromConntrack(text)
  const numeric = (cmd.inv.options & OPT.NUMERIC) !== 0
  const names = await resolveHosts(sys.names(), numeric ? [] : entries.flatMap((e) => [e.src, e.dst]))
  sys.out(formatMasq(entries, numeric, (cmd.inv.options & OPT.VERBOSE) !== 0, names))
  return 0
}

const list = async (cmd: Command, sys: Sys, world: ChainsWorld): Promise<number> => {
  const table = world.store.read()
  let state = decodeState(table)
  if (cmd.inv.command & CMD.ZERO) {
    // Read-and-zero: the listing shows the values the counters had when zeroed.
    const counts = world.store.resetCounters(state.chains.flatMap((c) => c.entries.map((e) => e.counter)))
    state = {
      ...state,
      chains: state.chains.map((c) => ({ ...c, entries: c.entries.map((e) => ({ ...e, counts: counts.get(e.counter) ?? e.counts })) })),
    }
  }
  const numeric = (cmd.inv.options & OPT.NUMERIC) !== 0
  const shown = state.chains.filter((c) => cmd.inv.chain === undefined || c.name === cmd.inv.chain)
  const names = await resolveHosts(sys.names(), numeric ? [] : listedAddresses(shown))
  return print(sys, execute(cmd, state, { names }))
}

const change = async (cmd: Command, sys: Sys, world: ChainsWorld): Promise<number> => {
  const names = await resolveHosts(sys.names(), [])
  const outcome = transact(world.store, (current) => {
    const before = decodeState(current)
    const result = execute(cmd, before, { names })
    const changed = structure(before) !== structure(result.state)
    return changed ? { next: renderState(result.state), previous: renderState(before), result } : { result }
  })
  world.store.resetCounters(outcome.zeroed)
  return print(sys, outcome)
}

const run = async (args: readonly string[], sys: Sys, world: ChainsWorld): Promise<number> => {
  const names = sys.names()
  const inv = parseInvocation(sys.program, args, (name) => names.protoNumber(name))
  const cmd = await validate(inv, {
    program: sys.program,
    names,
    stdout: sys.out,
    stdinIsTty: sys.stdinIsTty,
    ipForward: () => sys.readFile('/proc/sys/net/ipv4/ip_forward'),
  })
  const command = cmd.inv.command
  try {
    if (command === (CMD.LIST | CMD.MASQUERADE)) return await listMasq(cmd, sys, world)
    if (command & CMD.LIST) return await list(cmd, sys, world)
    if (command === CMD.CHECK)
      return print(sys, execute(cmd, decodeState(world.store.read()), { names: await resolveHosts(names, []) }))
    return await change(cmd, sys, world)
  } catch (e) {
    if (e instanceof CommitRejected) return print(sys, { stdout: '', stderr: `ipchains: ${e.reason}\n`, status: 1 })
    if (e instanceof Unsupported) return print(sys, { stdout: '', stderr: `ipchains: ${e.message}\n`, status: 1 })
    if (!(e instanceof KernelUnavailable || e instanceof NftMissing)) throw e
    return print(sys, { stdout: '', stderr: `ipchains: ${unavailableText(e, (command & CMD.LIST) !== 0)}\n`, status: 1 })
  }
}

/** Why the kernel could not be used, in the words libipfwc used. */
export const unavailableText = (e: KernelUnavailable | NftMissing, listing: boolean): string => {
  if (e instanceof KernelUnavailable && e.reason === 'permission')
    return listing ? 'Permission denied' : 'Permission denied (you must be root)'
  return 'Incompatible with this kernel'
}

export const ipchainsMain = async (args: readonly string[], sys: Sys, world: ChainsWorld): Promise<number> => {
  try {
    return await run(args, sys, world)
  } catch (e) {
    if (e instanceof Exit) return print(sys, e)
    if (e instanceof DecodeError) {
      sys.err(`ipchains: ${e.message}\n`)
      return 1
    }
    throw e
  }
}
