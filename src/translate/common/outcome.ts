/** What a legacy command did: the state after it, its output, and the counters to zero. */
export interface Outcome<S> {
  readonly state: S
  readonly stdout: string
  readonly stderr: string
  readonly status: number
  /** Counters the kernel must zero (-Z, -z, and the listing that zeroes). */
  readonly zeroed: readonly string[]
}
