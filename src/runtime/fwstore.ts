// The ipautofw/ipmasqadm tables in the kernel: read with `nft -j`, replaced
// in one compare-and-swap transaction (see translate/ipmasqadm/table.ts).
import { type FwKernel, type FwTable, fwKernelFromJson, transactionText } from '../translate/ipmasqadm/table.ts'
import { runNft } from './nft.ts'
import { CommitRejected, KernelUnavailable } from './store.ts'

export type FwCommit = 'ok' | 'conflict' | { readonly failure: string }

export interface FwStore {
  read(): FwKernel | undefined
  commit(current: FwKernel | undefined, next: FwTable): FwCommit
}

const unavailable = (stderr: string): KernelUnavailable | undefined => {
  if (/Operation not permitted|Permission denied/.test(stderr)) return new KernelUnavailable('permission', stderr)
  if (/Protocol not supported|Operation not supported|Address family not supported/.test(stderr)) return new KernelUnavailable('unsupported', stderr)
  return undefined
}

export const nftFwStore = (name: string): FwStore => ({
  read() {
    const result = runNft(['-j', 'list', 'table', 'ip', name])
    if (result.status === 0) return fwKernelFromJson(JSON.parse(result.stdout), name)
    if (/No such file or directory/.test(result.stderr)) return undefined
    throw unavailable(result.stderr) ?? new Error(`nft list table ip ${name}: ${result.stderr}`)
  },
  commit(current, next) {
    const result = runNft(['-f', '-'], transactionText(current, next))
    if (result.status === 0) return 'ok'
    const problem = unavailable(result.stderr)
    if (problem) throw problem
    // Someone else committed since we read: start again from their state.
    const now = this.read()
    if (now?.generation !== current?.generation || (now === undefined) !== (current === undefined)) return 'conflict'
    return { failure: result.stderr }
  },
})

export interface FwPlan<T> {
  readonly next?: FwTable
  readonly result: T
}

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Runs `plan` (pure) against the table and commits, until no concurrent command got in between. */
export const transactFw = <T>(store: FwStore, plan: (current: FwKernel | undefined) => FwPlan<T>): T => {
  for (let attempt = 0; ; attempt++) {
    const current = store.read()
    const { next, result } = plan(current)
    if (!next) return result
    const outcome = store.commit(current, next)
    if (outcome === 'ok') return result
    if (outcome !== 'conflict') throw new CommitRejected(outcome.failure)
    if (attempt > 200) throw new Error('gave up after 200 concurrent updates')
    sleep(1 + Math.random() * Math.min(50, attempt * 2))
  }
}
