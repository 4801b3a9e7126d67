// ipchains: parse and validate (pure), then one kernel transaction or a
// listing read from the kernel.
import { resolveHosts } from '../translate/common/listnames.ts'
import { type MasqForwarding, masqEntriesFromConntrack } from '../translate/common/masq.ts'
import { decodeState } from '../translate/ipchains/decode.ts'
import { execute } from '../translate/ipchains/execute.ts'
import { formatMasq, listedAddresses } from '../translate/ipchains/list.ts'
import { kernelError, kernelUnavailableText, masqUnreadable } from '../translate/ipchains/messages.ts'
import { F, INITIAL_STATE, type State } from '../translate/ipchains/model.ts'
import { fastAppendText } from '../translate/ipchains/fastpath.ts'
import { CMD, OPT, parseInvocation } from '../translate/ipchains/parse.ts'
import { type RenderCache, renderState } from '../translate/ipchains/render.ts'
import { Unsupported } from '../translate/nft/nat.ts'
import { type Command, validate } from '../translate/ipchains/validate.ts'
import { CommitRejected, KernelUnavailable, type TableStore, transact } from '../runtime/store.ts'
import { NftMissing } from '../runtime/nft.ts'
import type { Sys } from '../runtime/sys.ts'
import { freshCounter, permissionDenied, print, runCommand, withDoctorHint } from './output.ts'

/** The kernel as ipchains sees it. */
export interface ChainsWorld {
  readonly store: TableStore
  /** conntrack table lines, or undefined if it cannot be read. */
  readonly conntrack: () => string | undefined
  /** What the ipautofw/ipmasqadm tables forward (their connections are masq entries too). */
  readonly forwarding: () => MasqForwarding
  /** Called after a commit that leaves logging rules (their lines need the runtime); absent in the sandbox. */
  readonly startRuntime?: () => void
}

/** Does a rule log packets (-l: its lines come from the runtime)? */
export const logsPackets = (state: State): boolean => state.chains.some((c) => c.entries.some((e) => (e.rule.flg & F.PRN) !== 0))

// Did the command change what the kernel holds (rules, policies, timeouts)?
// States are updated immutably, so an untouched rule is the same object.
const sameStructure = (a: State, b: State): boolean =>
  a.timeouts.tcp === b.timeouts.tcp &&
  a.timeouts.tcpfin === b.timeouts.tcpfin &&
  a.timeouts.udp === b.timeouts.udp &&
  a.chains.length === b.chains.length &&
  a.chains.every((c, i) => {
    const d = b.chains[i]
    return (
      d !== undefined &&
      c.name === d.name &&
      c.policy === d.policy &&
      c.entries.length === d.entries.length &&
      c.entries.every((e, j) => e.rule === d.entries[j]?.rule && e.counter === d.entries[j]?.counter)
    )
  })

const listMasq = async (cmd: Command, sys: Sys, world: ChainsWorld): Promise<number> => {
  const text = world.conntrack()
  if (text === undefined) throw masqUnreadable(sys.program)
  const entries = masqEntriesFromConntrack(text, world.forwarding())
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

// Renderings by rule object, kept across the commands of one process (the
// rules a command did not touch are the same objects: see decodeRule).
const renderCache: RenderCache = new WeakMap()

const change = async (cmd: Command, sys: Sys, world: ChainsWorld): Promise<number> => {
  const names = await resolveHosts(sys.names(), [])
  const fast = world.store.addOnly ? fastAppendText(cmd, freshCounter) : undefined
  if (fast !== undefined && world.store.addOnly?.(fast)) return print(sys, execute(cmd, INITIAL_STATE, { names }))
  let logs = false
  const outcome = transact(world.store, (current) => {
    const before = decodeState(current)
    const result = execute(cmd, before, { names })
    if (sameStructure(before, result.state)) return { result }
    logs = logsPackets(result.state)
    return { next: renderState(result.state, renderCache), previous: () => renderState(before, renderCache), result }
  })
  world.store.resetCounters(outcome.zeroed)
  if (logs) world.startRuntime?.()
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
    if (command === CMD.CHECK) return print(sys, execute(cmd, decodeState(world.store.read()), { names: await resolveHosts(names, []) }))
    return await change(cmd, sys, world)
  } catch (e) {
    if (e instanceof CommitRejected) return print(sys, { stdout: '', stderr: kernelError(e.reason), status: 1 })
    if (e instanceof Unsupported) return print(sys, { stdout: '', stderr: kernelError(e.message), status: 1 })
    if (!(e instanceof KernelUnavailable || e instanceof NftMissing)) throw e
    return print(sys, {
      stdout: '',
      stderr: withDoctorHint(kernelError(kernelUnavailableText(permissionDenied(e), (command & CMD.LIST) !== 0)), e),
      status: 1,
    })
  }
}

export const ipchainsMain = (args: readonly string[], sys: Sys, world: ChainsWorld): Promise<number> =>
  runCommand('ipchains', sys, () => run(args, sys, world))
