// The part of an nftables table this project writes and reads back. Rules
// keep their match and statement text as nft syntax; only what the listing
// needs from the kernel (comment, named counter) is structured.

export interface NftRule {
  /** nft expressions, in order, before the counter. */
  readonly matches: readonly string[]
  /** A named counter object referenced by the rule. */
  readonly counter?: string
  /** An anonymous counter instead, read back by the rule's comment (its tag). */
  readonly tally?: true
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

/** A conntrack helper object (`ct helper set "NAME"` assigns it to a connection). */
export interface NftCtHelper {
  readonly name: string
  /** The kernel helper, e.g. "ftp". */
  readonly type: string
  readonly protocol: 'tcp' | 'udp'
}

export interface NftSet {
  readonly name: string
  /** The element type, or with `typeof` the expression whose type it is (a raw payload field). */
  readonly type: string
  readonly typeof?: true
  /** The packet path adds elements (`add @set`): a commit keeps them. */
  readonly dynamic?: true
  /** Elements expire after this long, e.g. "1h". */
  readonly timeout?: string
  readonly elements: readonly string[]
}

/** A map the packet path writes (`update @map`), its elements learned, not rendered. */
export interface NftMap {
  readonly name: string
  readonly key: string
  readonly value: string
  /** key and value are expressions whose types they are (raw payload fields). */
  readonly typeof?: true
  /** Elements expire this many seconds after their last update. */
  readonly timeoutSeconds?: number
}

/**
 * An interval map from an address or port to named counters: a folded run
 * of legacy rules (fold.ts). Its lookup both matches and counts.
 */
export interface NftCounterMap {
  readonly name: string
  /** 'ipv4_addr' or 'inet_service'. */
  readonly key: string
  /** [key as the kernel lists it (value, prefix or range), counter name], in key order. */
  readonly elements: readonly (readonly [string, string])[]
}

export interface NftTable {
  readonly family: 'ip'
  readonly name: string
  readonly comment?: string
  readonly sets: readonly NftSet[]
  readonly maps?: readonly NftMap[]
  readonly counterMaps?: readonly NftCounterMap[]
  readonly counters: readonly string[]
  readonly ctTimeouts: readonly NftCtTimeout[]
  readonly ctHelpers?: readonly NftCtHelper[]
  readonly chains: readonly NftChain[]
  /**
   * A table of entries (ipautofw, ipmasqadm): one record per legacy entry,
   * in list order, the comments of rules in the chain RECORDS_CHAIN, which
   * nothing jumps to; the other chains follow from the entries.
   */
  readonly records?: readonly string[]
}

export const RECORDS_CHAIN = 'records'

/** A rule that only carries a record. */
export const recordRule = (record: string): NftRule => ({ matches: [], stmts: ['continue'], comment: record })

/** The chains as the kernel holds them: the records chain first. */
export const chainsOf = (table: NftTable): readonly NftChain[] =>
  table.records === undefined ? table.chains : [{ name: RECORDS_CHAIN, rules: table.records.map(recordRule) }, ...table.chains]

/** Counter values as the kernel reports them, by counter name. */
export type CounterValues = ReadonlyMap<string, { readonly packets: number; readonly bytes: number }>
