// Runs a validated ipchains command against the state, the way the original
// issued its kernel calls: one call per (source, destination) pair plus the
// mirrored ones for -b, stopping at nothing, reporting the last failure.
import type { Outcome as CommandOutcome } from '../common/outcome.ts'
import type { ListNames } from '../common/listnames.ts'
import { type CheckVerdict, checkPacket } from './check.ts'
import * as kernel from './kernel.ts'
import { type KernelOp, chainActionText, kernelError, kernelErrorText } from './messages.ts'
import { FMT_PRINT_RULE, formatListing, formatRule } from './list.ts'
import { type Policy, type Rule, type State, F, INV, PROTO, ZERO, findChain, isBuiltin } from './model.ts'
import { CMD, OPT } from './parse.ts'
import type { Command } from './validate.ts'

export type Outcome = CommandOutcome<State>

/** swap_info(): the mirrored rule of -b (ports stay put for ICMP). */
export const mirrorRule = (rule: Rule): Rule => {
  const swapBits = (flags: number, a: number, b: number): number => (flags & ~(a | b)) | (flags & a ? b : 0) | (flags & b ? a : 0)
  const icmp = rule.proto === PROTO.ICMP
  return {
    ...rule,
    smsk: rule.dmsk,
    dmsk: rule.smsk,
    spts: icmp ? rule.spts : rule.dpts,
    dpts: icmp ? rule.dpts : rule.spts,
    invflg: swapBits(icmp ? rule.invflg : swapBits(rule.invflg, INV.SRCPT, INV.DSTPT), INV.SRCIP, INV.DSTIP),
  }
}

/** The rules one command line stands for, in the order they are sent. */
export const expandRules = (cmd: Command): Rule[] => {
  const pairs = (rule: Rule, saddrs: readonly number[], daddrs: readonly number[]): Rule[] =>
    saddrs.flatMap((src) => daddrs.map((dst) => ({ ...rule, src, dst })))
  const forward = pairs(cmd.rule, cmd.saddrs, cmd.daddrs)
  if (!(cmd.inv.options & OPT.BIDIR)) return forward
  return [...forward, ...pairs(mirrorRule(cmd.rule), cmd.daddrs, cmd.saddrs)]
}

interface Run {
  state: State
  stdout: string
  failure: { op: KernelOp; errno: kernel.Errno; target: string } | undefined
  zeroed: string[]
}

const apply = (run: Run, op: KernelOp, result: kernel.KernelResult, target = ''): void => {
  if (result.ok) run.state = result.state
  else run.failure = { op, errno: result.errno, target }
}

const ruleEcho = (rule: Rule, names: ListNames): string => formatRule(rule, 0, ZERO, FMT_PRINT_RULE, names)

const chainNames = (state: State, userOnly: boolean): string[] => state.chains.filter((c) => !userOnly || !isBuiltin(c.name)).map((c) => c.name)

export interface ExecuteContext {
  readonly names: ListNames
}

export const execute = (cmd: Command, state: State, ctx: ExecuteContext): Outcome => {
  const { inv } = cmd
  const chain = inv.chain ?? ''
  const verbose = (inv.options & OPT.VERBOSE) !== 0
  const run: Run = { state, stdout: '', failure: undefined, zeroed: [] }
  const echo = (rule: Rule): void => {
    if (verbose) run.stdout += ruleEcho(rule, ctx.names)
  }

  switch (inv.command) {
    case CMD.APPEND:
      for (const rule of expandRules(cmd)) {
        echo(rule)
        apply(run, 'append', kernel.appendRule(run.state, chain, rule), rule.label)
      }
      break
    case CMD.INSERT:
      for (const rule of expandRules(cmd)) {
        echo(rule)
        apply(run, 'insert', kernel.insertRule(run.state, chain, rule, inv.rulenum), rule.label)
      }
      break
    case CMD.DELETE:
      for (const rule of expandRules(cmd)) {
        echo(rule)
        apply(run, 'delete', kernel.deleteMatchingRule(run.state, chain, rule))
      }
      break
    case CMD.REPLACE: {
      const rule = { ...cmd.rule, src: cmd.saddrs[0] ?? 0, dst: cmd.daddrs[0] ?? 0 }
      echo(rule)
      apply(run, 'replace', kernel.replaceRule(run.state, chain, rule, inv.rulenum), rule.label)
      break
    }
    case CMD.DELETE_NUM:
      apply(run, 'delete-num', kernel.deleteRuleAt(run.state, chain, inv.rulenum))
      break
    case CMD.CHECK:
      if (!findChain(run.state, chain)) {
        for (const rule of expandRules(cmd)) echo(rule)
        run.failure = { op: 'check', errno: 'ENOENT', target: '' }
        break
      }
      for (const rule of expandRules(cmd)) {
        echo(rule)
        run.stdout += `${checkRule(run.state, chain, rule)}\n`
      }
      break
    case CMD.FLUSH:
    case CMD.ZERO: {
      const zero = inv.command === CMD.ZERO
      for (const name of inv.chain === undefined ? chainNames(run.state, false) : [chain]) {
        if (verbose) run.stdout += chainActionText(zero ? 'Zeroing' : 'Flushing', name)
        const before = findChain(run.state, name)
        apply(run, 'other', zero ? kernel.zeroChain(run.state, name) : kernel.flushChain(run.state, name))
        if (zero && before) run.zeroed.push(...before.entries.map((e) => e.counter))
      }
      break
    }
    case CMD.NEW_CHAIN:
      apply(run, 'new-chain', kernel.createChain(run.state, chain))
      break
    case CMD.DELETE_CHAIN:
      for (const name of inv.chain === undefined ? chainNames(run.state, true) : [chain]) {
        if (verbose) run.stdout += chainActionText('Deleting', name)
        apply(run, 'delete-chain', kernel.deleteChain(run.state, name))
      }
      break
    case CMD.SET_POLICY:
      apply(run, 'other', kernel.setPolicy(run.state, chain, inv.policy as Policy))
      break
    case CMD.MASQUERADE | CMD.SET_MASQUERADE: {
      // 0 keeps the current value.
      const [tcp, tcpfin, udp] = inv.timeouts ?? [0, 0, 0]
      const t = run.state.timeouts
      run.state = { ...run.state, timeouts: { tcp: tcp || t.tcp, tcpfin: tcpfin || t.tcpfin, udp: udp || t.udp } }
      break
    }
    case CMD.LIST:
    case CMD.LIST | CMD.ZERO:
      listChains(run, cmd, ctx)
      break
    default:
      throw new Error(`unexpected command bits ${inv.command}`)
  }

  const { failure } = run
  return {
    state: run.state,
    stdout: run.stdout,
    stderr: failure ? kernelError(kernelErrorText(failure.op, failure.errno, failure.target)) : '',
    status: failure ? 1 : 0,
    zeroed: run.zeroed,
  }
}

const listChains = (run: Run, cmd: Command, ctx: ExecuteContext): void => {
  const { inv } = cmd
  const chains = run.state.chains.filter((c) => inv.chain === undefined || c.name === inv.chain)
  run.stdout += formatListing(
    run.state,
    chains,
    {
      verbose: (inv.options & OPT.VERBOSE) !== 0,
      numeric: (inv.options & OPT.NUMERIC) !== 0,
      exact: (inv.options & OPT.EXPANDED) !== 0,
      lineNumbers: (inv.options & OPT.LINENUMBERS) !== 0,
    },
    ctx.names,
  )
  if (chains.length === 0) run.failure = { op: 'other', errno: 'ENOENT', target: '' }
  if (inv.command & CMD.ZERO) {
    const entries = run.state.chains.flatMap((c) => c.entries)
    run.zeroed.push(...entries.map((e) => e.counter))
    for (const c of run.state.chains) {
      const zeroedState = kernel.zeroChain(run.state, c.name)
      if (zeroedState.ok) run.state = zeroedState.state
    }
  }
}

/**
 * ipfwc_check_packet(): the test packet a -C rule describes, and its verdict.
 * The packet's protocol, ICMP type and ICMP code are single bytes.
 */
const checkRule = (state: State, chain: string, rule: Rule): CheckVerdict => {
  const proto = rule.proto & 0xff
  const byte = (n: number): number => (proto === PROTO.ICMP ? n & 0xff : n)
  return checkPacket(state, chain, {
    saddr: rule.src,
    daddr: rule.dst,
    proto,
    sport: byte(rule.spts[0]),
    dport: byte(rule.dpts[0]),
    syn: (rule.flg & F.TCPSYN) !== 0,
    fragOffset: rule.flg & F.FRAG ? 2 : 0,
    iface: rule.vianame,
  })
}
