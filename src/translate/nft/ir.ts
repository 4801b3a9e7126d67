// The part of an nftables table this project writes and reads back. Rules
// keep their match and statement text as nft syntax; only what the listing
// needs from the kernel (comment, named counter) is structured.

export interface NftRule {
  /** nft expressions, in order, before the counter. */
  readonly matches: readonly string[]
  /** A named counter object referenced by the rule. */
  readonly counter?: string
  /** Statements after the counter (log, mangle, verdict). */
  readonly stmts: readonly string[]
  readonly comment?: string
}

export interface NftBaseChain {
  readonly type: 'filter' | 'nat'
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting'
  /** As written, e.g. "dstnat - 50" or "200". */
  readonly priority: string
  readonly policy: 'accept' | 'drop'
}

export interface NftChain {
  readonly name: string
  readonly base?: NftBaseChain
  readonly comment?: string
  readonly rules: readonly NftRule[]
}

export interface NftCtTimeout {
  readonly name: string
  readonly protocol: 'tcp' | 'udp'
  readonly policy: readonly (readonly [string, number])[]
}

export interface NftSet {
  readonly name: string
  readonly type: string
  readonly elements: readonly string[]
}

export interface NftTable {
  readonly family: 'ip'
  readonly name: string
  readonly comment?: string
  readonly sets: readonly NftSet[]
  readonly counters: readonly string[]
  readonly ctTimeouts: readonly NftCtTimeout[]
  readonly chains: readonly NftChain[]
}

/** Counter values as the kernel reports them, by counter name. */
export type CounterValues = ReadonlyMap<string, { readonly packets: number; readonly bytes: number }>
