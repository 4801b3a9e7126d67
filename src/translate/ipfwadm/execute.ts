// Runs a validated ipfwadm command against the state the way the original
// issued its setsockopt() calls: one per (source, destination) pair, every
// failure reported by perror(), the exit status -1 (255) if any failed.
import type { Outcome as CommandOutcome } from '../common/outcome.ts'
import type { ListNames } from '../common/listnames.ts'
import { checkPacket, type Packet } from './check.ts'
import * as kernel from './kernel.ts'
import { FMT_ECHO_CHECK, FMT_ECHO_RULE, formatListing, formatRule } from './list.ts'
import { STRERROR, checkedText, setsockoptFailed } from './messages.ts'
import { type Category, type Firewall, FW, KIND, KIND_PROTOCOLS, type Rule, type State, ZERO, kindOf } from './model.ts'
import { CMD, OPT } from './parse.ts'
import type { Command } from './validate.ts'

export type Outcome = CommandOutcome<State>

export interface ExecuteContext {
  readonly names: ListNames
  /** Primary IPv4 address of each interface (the kernel's dev->pa_addr). */
  readonly interfaces: ReadonlyMap<string, number | undefined>
}

/** The rules a command line stands for: sources outer, destinations inner. */
export const expandRules = (cmd: Command): Rule[] => cmd.saddrs.flatMap((src) => cmd.daddrs.map((dst) => ({ ...cmd.rule, src, dst })))

const CHECK_OUTPUT: Record<ReturnType<typeof checkPacket>, { stdout: string; stderr: string; failed: boolean }> = {
  accept: { stdout: checkedText('accepted'), stderr: '', failed: false },
  masquerade: { stdout: checkedText('masqueraded'), stderr: '', failed: true },
  deny: { stdout: checkedText('denied'), stderr: '', failed: false },
  reject: { stdout: checkedText('rejected'), stderr: '', failed: false },
  redirect: { stdout: '', stderr: setsockoptFailed(STRERROR.ECONNABORTED), failed: true },
}

// fw_to_fwpkt(): the test packet. The ICMP type is never filled in (quirk).
const testPacket = (rule: Rule, interfaces: ExecuteContext['interfaces']): Packet => {
  const kind = kindOf(rule)
  const ports = kind === KIND.TCP || kind === KIND.UDP
  return {
    saddr: rule.src,
    daddr: rule.dst,
    proto: KIND_PROTOCOLS[kind] ?? 0,
    sport: ports ? (rule.pts[0] ?? 0) : 0,
    dport: ports ? (rule.pts[1] ?? 0) : 0,
    syn: kind === KIND.TCP && (rule.flg & FW.TCPSYN) !== 0,
    ack: false,
    rst: false,
    iface: { name: rule.vianame, primary: interfaces.get(rule.vianame) },
  }
}

export const execute = (cmd: Command, state: State, ctx: ExecuteContext): Outcome => {
  const { inv } = cmd
  const category = cmd.category as Category
  const accounting = category === 'accounting'
  let current = state
  let stdout = ''
  let stderr = ''
  let failed = false
  const zeroed: string[] = []
  const verbose = (inv.options & OPT.VERBOSE) !== 0
  const fail = (strerror: string): void => {
    stderr += setsockoptFailed(strerror)
    failed = true
  }

  switch (inv.command) {
    case CMD.INSERT:
    case CMD.APPEND:
    case CMD.DELETE:
      for (const rule of expandRules(cmd)) {
        if (verbose) stdout += formatRule(rule, ZERO, FMT_ECHO_RULE, accounting, ctx.names)
        if (inv.command === CMD.DELETE) {
          const result = kernel.deleteRule(current, category, rule)
          if (result.ok) current = result.state
          else fail(STRERROR.EINVAL)
        } else current = kernel.addRule(current, category, rule, inv.command === CMD.INSERT)
      }
      break
    case CMD.CHECK:
      for (const rule of expandRules(cmd)) {
        if (verbose) stdout += formatRule(rule, ZERO, FMT_ECHO_CHECK, accounting, ctx.names)
        // The kernel wants the -W interface to exist with -V as its primary address.
        if (!ctx.interfaces.has(rule.vianame) || ctx.interfaces.get(rule.vianame) !== rule.via) {
          fail(STRERROR.EINVAL)
          continue
        }
        const out = CHECK_OUTPUT[checkPacket(current, category as Firewall, testPacket(rule, ctx.interfaces))]
        stdout += out.stdout
        stderr += out.stderr
        failed ||= out.failed
      }
      break
    case CMD.POLICY:
      current = kernel.setPolicy(current, category, inv.flg & (FW.ACCEPT | FW.ICMPRPL | FW.MASQ))
      break
    case CMD.FLUSH:
      current = kernel.flush(current, category)
      break
    case CMD.RESET:
      zeroed.push(...current.chains[category].entries.map((e) => e.counter))
      current = kernel.zero(current, category)
      break
    case CMD.TIMEOUT: {
      // 0 keeps the current value.
      const [tcp, tcpfin, udp] = inv.timeouts ?? [0, 0, 0]
      const t = current.timeouts
      current = { ...current, timeouts: { tcp: tcp || t.tcp, tcpfin: tcpfin || t.tcpfin, udp: udp || t.udp } }
      break
    }
    case CMD.LIST:
    case CMD.LIST | CMD.RESET: {
      const options = inv.options
      stdout += formatListing(
        category,
        current.chains[category],
        { extended: (options & OPT.EXTENDED) !== 0, numeric: (options & OPT.NUMERIC) !== 0, exact: (options & OPT.EXPANDED) !== 0 },
        ctx.names,
      )
      if (inv.command & CMD.RESET) {
        zeroed.push(...current.chains[category].entries.map((e) => e.counter))
        current = kernel.zero(current, category)
      }
      break
    }
    default:
      throw new Error(`unexpected command bits ${inv.command}`)
  }
  return { state: current, stdout, stderr, status: failed ? 255 : 0, zeroed }
}
