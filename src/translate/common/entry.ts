// A rule as a legacy kernel stored it: its record, the name of the nft
// counter object that counts for it, and that counter's values.

export interface Counters {
  readonly packets: number
  readonly bytes: number
}

export const ZERO: Counters = { packets: 0, bytes: 0 }

export interface Entry<R> {
  readonly rule: R
  readonly counter: string
  readonly counts: Counters
}
