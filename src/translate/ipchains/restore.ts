// ipchains-restore (ipchains-scripts 1.1.2 with Red Hat's RETURN patch): a
// saved file read line by line. `:CHAIN POLICY` announces a chain: built-in
// chains get their policy with -p; a user chain is created, or, if it
// already existed, flushed (-f or the answer "f") or skipped with all its
// `-A` lines. Every other line is handed to ipchains as it stands (so
// hand-written lokkit files work), after creating any chain it jumps to.
// The first failing ipchains call ends the restore.
//
// Pure: the CLI validates every command line the restore may run up front
// (validation needs DNS), then runs the plan against the kernel state inside
// one transaction. See docs/decisions.md.
import type { Exit } from '../common/exit.ts'
import type { ListNames } from '../common/listnames.ts'
import { execute } from './execute.ts'
import { PROGRESS } from './messages.ts'
import { type State, findChain, isBuiltin } from './model.ts'
import { CMD } from './parse.ts'
import type { Output } from './save.ts'
import type { Command } from './validate.ts'

export interface RestoreOptions {
  readonly force: boolean
  readonly verbose: boolean
  readonly policies: boolean
}

/** The arguments, or undefined for anything but -f, -v and -p. */
export const parseRestoreArgs = (args: readonly string[]): RestoreOptions | undefined => {
  if (args.some((a) => a !== '-f' && a !== '-v' && a !== '-p')) return undefined
  return { force: args.includes('-f'), verbose: args.includes('-v'), policies: args.includes('-p') }
}

export type Step =
  | { readonly kind: 'chain'; readonly chain: string; readonly policy: string | undefined }
  | { readonly kind: 'line'; readonly words: readonly string[] }

/** The file as the shell's `read` splits it; blank lines and comments are ignored. */
export const parseSaved = (text: string): Step[] =>
  text.split('\n').flatMap((line): Step[] => {
    const words = line.split(/[ \t]+/).filter((w) => w !== '')
    const first = words[0]
    if (first === undefined || first.startsWith('#')) return []
    if (first.startsWith(':')) return [{ kind: 'chain', chain: first.slice(1), policy: words[1] }]
    return [{ kind: 'line', words }]
  })

/** Targets the script never takes for chains (the Red Hat patch added RETURN). */
const BUILTIN_TARGETS = ['RETURN', 'REJECT', 'DENY', 'ACCEPT', 'MASQ', 'REDIRECT']

/** The words following `-j` that name chains. */
const jumpTargets = (words: readonly string[]): string[] =>
  words.flatMap((w, i) => {
    const next = words[i + 1]
    return w === '-j' && next !== undefined && !BUILTIN_TARGETS.includes(next) ? [next] : []
  })

const newChainArgv = (chain: string): string[] => ['-N', chain]
const flushArgv = (chain: string): string[] => ['-F', chain]
const policyArgv = (step: { chain: string; policy: string | undefined }): string[] => [
  '-P',
  step.chain,
  ...(step.policy === undefined ? [] : [step.policy]),
]
const lineArgv = (words: readonly string[], o: RestoreOptions): string[] => [...(o.verbose ? ['-v'] : []), ...words]

/** Every ipchains command line the restore may run, for validation up front. */
export const plannedArgvs = (steps: readonly Step[], o: RestoreOptions): string[][] =>
  steps.flatMap((step) =>
    step.kind === 'line'
      ? [...jumpTargets(step.words).map(newChainArgv), lineArgv(step.words, o)]
      : isBuiltin(step.chain)
        ? o.policies
          ? [policyArgv(step)]
          : []
        : [newChainArgv(step.chain), flushArgv(step.chain)],
  )

export const argvKey = (argv: readonly string[]): string => argv.join('\0')

/** An ipchains command line after parsing and validation (which may print warnings). */
export type Prepared = { readonly warnings: string } & ({ readonly cmd: Command } | { readonly exit: Exit })

export interface RestoreEnv {
  readonly prepared: ReadonlyMap<string, Prepared>
  /** The answers typed so far, in prompt order ('' when there is no terminal). */
  readonly answers: readonly string[]
  readonly names: ListNames
}

/** Where a restore stands between two segments. */
export interface Progress {
  readonly step: number
  readonly skipped: ReadonlySet<string>
  /** User chains this restore created: they are its own, never prompted for. */
  readonly created: ReadonlySet<string>
  readonly asked: number
}

export const START: Progress = { step: 0, skipped: new Set(), created: new Set(), asked: 0 }

export type Stop =
  | { readonly kind: 'end' }
  | { readonly kind: 'failed' }
  /** An answer is needed: the last output is the prompt. */
  | { readonly kind: 'ask' }
  /** A listing needs the kernel's own view: commit, run it, go on from `progress`. */
  | { readonly kind: 'list'; readonly argv: readonly string[] }

export interface Segment {
  readonly state: State
  readonly output: readonly Output[]
  /** Rule counters the kernel must zero after the commit (-Z lines). */
  readonly zeroed: readonly string[]
  readonly progress: Progress
  readonly stop: Stop
}

/** Runs the steps from `from.step` until the end, a failure, a prompt or a listing. */
export const runSegment = (initial: State, steps: readonly Step[], o: RestoreOptions, from: Progress, env: RestoreEnv): Segment => {
  let state = initial
  const output: Output[] = []
  const zeroed: string[] = []
  const skipped = new Set(from.skipped)
  const created = new Set(from.created)
  let asked = from.asked
  const say = (text: string): void => {
    output.push({ stream: 'err', text })
  }

  /** Runs one ipchains command line: true when it succeeded, false when it failed. */
  const ipchains = (argv: readonly string[], quiet = false): boolean | Stop => {
    const prepared = env.prepared.get(argvKey(argv))
    if (!prepared) throw new Error(`not validated: ${argv.join(' ')}`)
    if ('cmd' in prepared && prepared.cmd.inv.command & CMD.LIST) return { kind: 'list', argv }
    const result =
      'cmd' in prepared
        ? execute(prepared.cmd, state, { names: env.names })
        : { state, stdout: prepared.exit.stdout, stderr: prepared.exit.stderr, status: prepared.exit.status, zeroed: [] }
    if (!quiet) {
      output.push({ stream: 'out', text: prepared.warnings + result.stdout }, { stream: 'err', text: result.stderr })
      zeroed.push(...result.zeroed)
    }
    if (result.status !== 0) return false
    state = result.state
    return true
  }

  const chainStep = (chain: string, policy: string | undefined): boolean | Stop => {
    say(PROGRESS.restoring(chain))
    if (isBuiltin(chain)) return o.policies ? ipchains(policyArgv({ chain, policy })) : true
    skipped.delete(chain)
    if (!findChain(state, chain)) {
      created.add(chain)
      return ipchains(newChainArgv(chain))
    }
    if (created.has(chain)) return true
    if (!o.force) {
      say(PROGRESS.chainExists(chain))
      const answer = env.answers[asked]
      if (answer === undefined) return { kind: 'ask' }
      asked++
      if (!/^[fF]/.test(answer)) {
        skipped.add(chain)
        say(PROGRESS.skipping(chain))
        return true
      }
    }
    say(PROGRESS.flushing(chain))
    return ipchains(flushArgv(chain))
  }

  const lineStep = (words: readonly string[]): boolean | Stop => {
    if (words[0] === '-A' && skipped.has(words[1] ?? '')) return true
    for (const target of jumpTargets(words)) if (!findChain(state, target) && ipchains(newChainArgv(target), true) === true) created.add(target)
    return ipchains(lineArgv(words, o))
  }

  let step = from.step
  let stop: Stop = { kind: 'end' }
  for (; step < steps.length; step++) {
    const current = steps[step]
    if (!current) break
    const result = current.kind === 'chain' ? chainStep(current.chain, current.policy) : lineStep(current.words)
    if (result === true) continue
    stop = result === false ? { kind: 'failed' } : result
    break
  }
  const next = stop.kind === 'list' ? step + 1 : step
  return {
    state,
    output: output.filter((c) => c.text !== ''),
    zeroed,
    progress: { step: next, skipped, created, asked },
    stop,
  }
}
