// nft match expressions for legacy rule fields. Each returns the expression,
// or 'always' (no test needed) or 'never' (nothing can match).
import { addrToDotted, maskToBits } from '../common/inet.ts'

export type Match = string | 'always' | 'never'

/** A match that nothing satisfies, for rules that can never match. */
export const NEVER = 'ip version 0'

/** Address under mask; the address is already masked, as the kernels stored it. */
export const addrMatch = (field: 'saddr' | 'daddr', addr: number, mask: number, inverted: boolean): Match => {
  if (mask === 0) return inverted ? 'never' : 'always'
  const bits = maskToBits(mask)
  const op = inverted ? '!= ' : ''
  if (bits === 32) return `ip ${field} ${op}${addrToDotted(addr)}`
  if (bits !== undefined) return `ip ${field} ${op}${addrToDotted(addr)}/${bits}`
  return `ip ${field} & ${addrToDotted(mask)} ${inverted ? '!=' : '=='} ${addrToDotted(addr)}`
}

/** A u16 range [lo, hi] tested on an nft field whose largest value is `max`. */
export const rangeMatch = (field: string, range: readonly [number, number], inverted: boolean, max: number): Match => {
  const lo = range[0]
  const hi = Math.min(range[1], max)
  const op = inverted ? '!= ' : ''
  if (lo > hi) return inverted ? 'always' : 'never'
  if (lo === 0 && hi === max) return inverted ? 'never' : 'always'
  return `${field} ${op}${lo === hi ? lo : `${lo}-${hi}`}`
}

/** Linux interface names have at most IFNAMSIZ - 1 bytes. */
const IFNAME_MAX = 15

/**
 * An interface name as an nft string, `*` appended for a prefix; undefined
 * when nft cannot spell it or no interface can have it (the legacy tools
 * accepted 16 bytes), so that nothing matches.
 */
export const ifaceString = (name: string, wildcard: boolean): string | undefined => {
  const length = new TextEncoder().encode(name).length
  // A prefix of 15 bytes is a whole name.
  if (/["\\]/.test(name) || length > IFNAME_MAX) return undefined
  return `"${name.replaceAll('*', '\\*')}${wildcard && length < IFNAME_MAX ? '*' : ''}"`
}

/** Joins matches into a rule's match list, or 'never'. */
export const combine = (matches: readonly Match[]): string[] | 'never' =>
  matches.includes('never') ? 'never' : matches.filter((m) => m !== 'always')
