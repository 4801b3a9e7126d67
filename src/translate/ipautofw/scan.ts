// The sscanf() conversions the autofw program used: "%hu", "%hd" and literal
// characters between them. A conversion that fails leaves its variable as it
// was, and everything after it unread.
import { isCSpace, strtol, strtoul } from '../common/cnum.ts'

export type ScanItem = 'hu' | 'hd' | { readonly literal: string }

export interface Scanned {
  /** Values of the conversions that succeeded, in order. */
  readonly values: readonly number[]
  /** sscanf's return: conversions done, or -1 when the input ended before the first. */
  readonly result: number
}

const toUnsignedShort = (n: number): number => ((n % 65536) + 65536) % 65536
const toSignedShort = (n: number): number => {
  const u = toUnsignedShort(n)
  return u >= 32768 ? u - 65536 : u
}

export const sscanf = (text: string, items: readonly ScanItem[]): Scanned => {
  const values: number[] = []
  let at = 0
  for (const item of items) {
    if (typeof item === 'object') {
      if (text[at] !== item.literal) break
      at++
      continue
    }
    while (isCSpace(text[at])) at++
    if (at >= text.length) return { values, result: values.length === 0 ? -1 : values.length }
    const rest = text.slice(at)
    // strtol/strtoul would also skip blanks and accept a 0x prefix in base 0; base 10 here.
    const scan = item === 'hu' ? strtoul(rest, 10) : strtol(rest, 10)
    if (scan.end === 0) break
    values.push(item === 'hu' ? toUnsignedShort(scan.value) : toSignedShort(scan.value))
    at += scan.end
  }
  return { values, result: values.length }
}
