// The kernel as the only state: read an owned table, replace it in one
// compare-and-swap transaction, read-and-zero its counters.
import type { NftTable } from '../translate/nft/ir.ts'
import { type Counts, type KernelTable, countersFromText, kernelTableFromJson } from '../translate/nft/kernel-table.ts'
import { STALE_AFTER_MS, generationOf, replaceTableText } from '../translate/nft/transaction.ts'
import { runNft } from './nft.ts'

export type CommitResult = 'ok' | 'conflict' | { readonly failure: string }

export interface TableStore {
  read(): KernelTable | undefined
  /** `previous` renders what `current` decodes to (for minimal edits); a store that has no use for it never calls it. */
  commit(current: KernelTable | undefined, next: NftTable, previous?: () => NftTable): CommitResult
  /** Reads and zeroes the named counters in one step each. */
  resetCounters(names: readonly string[]): Map<string, Counts>
  /** Applies a transaction that only adds, without reading first; false if the kernel refused it. */
  addOnly?(text: string): boolean
}

/** Why the kernel cannot be used at all; the tools word it their own way. */
export class KernelUnavailable extends Error {
  constructor(
    readonly reason: 'permission' | 'unsupported',
    detail: string,
  ) {
    super(detail)
  }
}

/** The kernel refused the transaction; nothing was applied. */
export class CommitRejected extends Error {
  /** The kernel's reason, e.g. "Too many links". */
  readonly reason: string
  constructor(stderr: string) {
    super(stderr)
    this.reason = /Could not process rule: ([^\n]*)/.exec(stderr)?.[1] ?? stderr.split('\n')[0] ?? stderr
  }
}

const classify = (stderr: string): KernelUnavailable | undefined => {
  if (/Operation not permitted|Permission denied/.test(stderr)) return new KernelUnavailable('permission', stderr)
  if (/Protocol not supported|Operation not supported|Address family not supported/.test(stderr))
    return new KernelUnavailable('unsupported', stderr)
  return undefined
}

export const nftTableStore = (family: string, name: string): TableStore => ({
  read() {
    const result = runNft(['-j', 'list', 'table', family, name])
    if (result.status === 0) return kernelTableFromJson(JSON.parse(result.stdout), family, name)
    if (/No such file or directory/.test(result.stderr)) return undefined
    throw classify(result.stderr) ?? new Error(`nft list table ${family} ${name}: ${result.stderr}`)
  },
  commit(current, next, previous) {
    const result = runNft(['-f', '-'], replaceTableText(current, next, previous?.()))
    if (result.status === 0) return 'ok'
    const unavailable = classify(result.stderr)
    if (unavailable) throw unavailable
    // Someone else committed since we read: try again from their state.
    const now = this.read()
    if (generationOf(now) !== generationOf(current) || (current === undefined) !== (now === undefined)) return 'conflict'
    return { failure: result.stderr }
  },
  addOnly(text) {
    return runNft(['-f', '-'], text).status === 0
  },
  resetCounters(names) {
    if (names.length === 0) return new Map()
    // Text in, text out: `nft -j -f -` would open /dev/stdin, which fails on a socket.
    const script = names.map((n) => `reset counter ${family} ${name} ${n}`).join('\n')
    const result = runNft(['-f', '-'], `${script}\n`)
    if (result.status !== 0) throw classify(result.stderr) ?? new Error(`nft reset counter: ${result.stderr}`)
    return countersFromText(result.stdout)
  },
})

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Runs `plan` against the current table and commits its result, again and
 * again until no concurrent invocation got in between. `plan` must be pure:
 * it may run more than once.
 */
export interface Plan<T> {
  readonly next?: NftTable
  /** Renders the state read, when the plan has it (see replaceTableText); called only by a store that uses it. */
  readonly previous?: () => NftTable
  readonly result: T
}

export const transact = <T>(store: TableStore, plan: (current: KernelTable | undefined) => Plan<T>): T => {
  for (let attempt = 0; ; attempt++) {
    const readAt = Date.now()
    const current = store.read()
    const { next, previous, result } = plan(current)
    if (!next) return result
    // Generation elements expire; never commit against a read that old.
    const outcome = Date.now() - readAt > STALE_AFTER_MS ? 'conflict' : store.commit(current, next, previous)
    if (outcome === 'ok') return result
    if (outcome !== 'conflict') throw new CommitRejected(outcome.failure)
    if (attempt > 200) throw new Error('gave up after 200 concurrent updates')
    sleep(1 + Math.random() * Math.min(50, attempt * 2))
  }
}
