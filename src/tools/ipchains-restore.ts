// ipchains-restore [-f] [-v] [-p]: the saved file on stdin, applied as one
// kernel transaction per run of lines (a listing line needs the kernel's own
// view, so it commits what came before it), with the messages and exit
// status of running its lines one by one.
import { Exit } from '../translate/common/exit.ts'
import { resolveHosts } from '../translate/common/listnames.ts'
import { decodeState } from '../translate/ipchains/decode.ts'
import { DecodeError } from '../translate/nft/kernel-table.ts'
import { RESTORE_USAGE, kernelError, kernelUnavailableText } from '../translate/ipchains/messages.ts'
import { parseInvocation } from '../translate/ipchains/parse.ts'
import { renderState } from '../translate/ipchains/render.ts'
import {
  type Prepared,
  type Progress,
  type RestoreOptions,
  type Segment,
  START,
  argvKey,
  parseRestoreArgs,
  parseSaved,
  plannedArgvs,
  runSegment,
} from '../translate/ipchains/restore.ts'
import { validate } from '../translate/ipchains/validate.ts'
import { CommitRejected, KernelUnavailable, transact } from '../runtime/store.ts'
import { NftMissing } from '../runtime/nft.ts'
import type { Sys } from '../runtime/sys.ts'
import { type ChainsWorld, ipchainsMain, logsPackets } from './ipchains.ts'
import { printOutput } from './ipchains-save.ts'
import { permissionDenied, withDoctorHint } from './output.ts'

/** Parses and validates one ipchains command line, keeping what it printed. */
const prepare = async (argv: readonly string[], sys: Sys): Promise<Prepared> => {
  let warnings = ''
  try {
    const names = sys.names()
    const inv = parseInvocation(sys.program, argv, (name) => names.protoNumber(name))
    const cmd = await validate(inv, {
      program: sys.program,
      names,
      stdout: (text) => {
        warnings += text
      },
      stdinIsTty: sys.stdinIsTty,
      ipForward: () => sys.readFile('/proc/sys/net/ipv4/ip_forward'),
    })
    return { warnings, cmd }
  } catch (e) {
    if (e instanceof Exit) return { warnings, exit: e }
    throw e
  }
}

const prepareAll = async (argvs: readonly string[][], sys: Sys): Promise<Map<string, Prepared>> => {
  const prepared = new Map<string, Prepared>()
  for (const argv of argvs) if (!prepared.has(argvKey(argv))) prepared.set(argvKey(argv), await prepare(argv, sys))
  return prepared
}

const restore = async (o: RestoreOptions, sys: Sys, world: ChainsWorld): Promise<number> => {
  const ipchains: Sys = { ...sys, program: 'ipchains' }
  const steps = parseSaved(sys.readStdin())
  const answers: string[] = []
  const env = {
    prepared: await prepareAll(plannedArgvs(steps, o), ipchains),
    answers,
    names: await resolveHosts(sys.names(), []),
  }

  // Runs the steps from `from` to a stop other than a prompt, in one commit.
  // A prompt runs the plan again with one more answer: it prints the same
  // output up to the prompt, of which only the rest is new.
  const segment = (from: Progress): Segment => {
    for (let printed = 0; ;) {
      const result = transact(world.store, (current) => {
        const before = decodeState(current)
        const planned = runSegment(before, steps, o, from, env)
        if (planned.stop.kind === 'ask' || planned.state === before) return { result: planned }
        return { next: renderState(planned.state), previous: () => renderState(before), result: planned }
      })
      printOutput(sys, result.output.slice(printed))
      printed = result.output.length
      if (result.stop.kind !== 'ask') {
        const counters = new Set(result.state.chains.flatMap((c) => c.entries.map((e) => e.counter)))
        world.store.resetCounters(result.zeroed.filter((c) => counters.has(c)))
        if (logsPackets(result.state)) world.startRuntime?.()
        return result
      }
      answers.push(sys.readTtyLine() ?? '')
    }
  }

  for (let progress = START; ;) {
    const result = segment(progress)
    if (result.stop.kind === 'end') return 0
    if (result.stop.kind !== 'list' || (await ipchainsMain(result.stop.argv, ipchains, world)) !== 0) return 1
    progress = result.progress
  }
}

export const ipchainsRestoreMain = async (args: readonly string[], sys: Sys, world: ChainsWorld): Promise<number> => {
  const o = parseRestoreArgs(args)
  if (!o) {
    sys.err(RESTORE_USAGE)
    return 1
  }
  try {
    return await restore(o, sys, world)
  } catch (e) {
    if (e instanceof KernelUnavailable || e instanceof NftMissing)
      sys.err(withDoctorHint(kernelError(kernelUnavailableText(permissionDenied(e), false)), e))
    else if (e instanceof CommitRejected) sys.err(kernelError(e.reason))
    else if (e instanceof DecodeError) sys.err(kernelError(e.message))
    else throw e
    return 1
  }
}
