// IPv4 addresses as unsigned 32-bit numbers in host order (a.b.c.d = a<<24 | ...),
// with the legacy tools' own parsing rules.
import { stringToNumber, strtoul } from './cnum.ts'

export const ANY = 0
export const HOST_MASK = 0xffffffff

export const u32 = (n: number): number => n >>> 0

/**
 * dotted_to_addr(): exactly four decimal fields 0..255 (leading zeros are
 * decimal, whitespace and '+' accepted by strtol). The tools copy the text
 * into a 20-byte buffer first, so only the first 19 characters count.
 */
export const dottedToAddr = (text: string): number | undefined => {
  const fields = text.slice(0, 19).split('.')
  if (fields.length < 4) return undefined
  // A fourth '.' ends up inside the last field, which then fails to parse.
  const last = fields.slice(3).join('.')
  const bytes = [...fields.slice(0, 3), last].map((f) => stringToNumber(f, 0, 255))
  if (bytes.some((b) => b === -1)) return undefined
  return u32(bytes.reduce((acc, b) => acc * 256 + b, 0))
}

/** addr_to_dotted() */
export const addrToDotted = (addr: number): string => [24, 16, 8, 0].map((shift) => (addr >>> shift) & 0xff).join('.')

/** A prefix length as a mask (bits 0..32). */
export const bitsToMask = (bits: number): number => (bits === 0 ? 0 : u32(0xffffffff << (32 - bits)))

/** The prefix length of a contiguous mask, or undefined. */
export const maskToBits = (mask: number): number | undefined => {
  const bits = Math.clz32(~mask >>> 0)
  return bitsToMask(bits) === mask >>> 0 ? bits : undefined
}

/** mask_to_dotted(): "" for /32, "/N" for contiguous masks, else "/a.b.c.d". */
export const maskSuffix = (mask: number): string => {
  if (mask === HOST_MASK) return ''
  const bits = maskToBits(mask)
  return bits === undefined ? `/${addrToDotted(mask)}` : `/${bits}`
}

/**
 * inet_aton(): the numeric forms gethostbyname() accepts besides a dotted
 * quad: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x).
 */
export const inetAton = (text: string): number | undefined => {
  const parts = text.split('.')
  if (parts.length > 4 || parts.some((p) => p === '' || /[^0-9a-fA-FxX]/.test(p))) return undefined
  const values: number[] = []
  for (const part of parts) {
    const { value, end } = strtoul(part, 0)
    if (end !== part.length) return undefined
    values.push(value)
  }
  // All parts but the last are single bytes; the last fills the remaining bits.
  const tailBits = [32, 24, 16, 8][values.length - 1] ?? 8
  const head = values.slice(0, -1)
  const tail = values[values.length - 1] ?? 0
  if (head.some((v) => v > 255) || tail >= 2 ** tailBits) return undefined
  const headValue = head.reduce((acc, v, i) => acc + v * 2 ** (24 - 8 * i), 0)
  return u32(headValue + tail)
}
