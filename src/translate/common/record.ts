// Pieces shared by the rule records stored in nft comments: addresses in
// their canonical text form, and the packed binary form used when the text
// would not fit nft's 128-byte comment limit ("=" + base64).
import { stringToNumber } from './cnum.ts'
import { addrToDotted, bitsToMask, dottedToAddr, maskToBits } from './inet.ts'

export const COMMENT_MAX = 128

export const fitsComment = (text: string): boolean => new TextEncoder().encode(text).length <= COMMENT_MAX

/** "0/0", "a.b.c.d" (/32), "a.b.c.d/N" or "a.b.c.d/m.m.m.m". */
export const addrText = (addr: number, mask: number): string => {
  if (mask === 0) return '0/0'
  const bits = maskToBits(mask)
  if (bits === 32) return addrToDotted(addr)
  return `${addrToDotted(addr)}/${bits === undefined ? addrToDotted(mask) : bits}`
}

export const parseAddrText = (text: string): { addr: number; mask: number } | undefined => {
  if (text === '0/0') return { addr: 0, mask: 0 }
  const [a, m] = text.split('/')
  const addr = dottedToAddr(a ?? '')
  if (addr === undefined) return undefined
  if (m === undefined) return { addr, mask: 0xffffffff }
  const mask = m.includes('.') ? dottedToAddr(m) : stringToNumber(m, 0, 32) === -1 ? undefined : bitsToMask(Number(m))
  return mask === undefined ? undefined : { addr, mask }
}

/** Big-endian fields and length-prefixed names, base64 encoded. */
export class Packer {
  private readonly bytes: number[] = []

  put(value: number, size: number): this {
    for (let shift = (size - 1) * 8; shift >= 0; shift -= 8) this.bytes.push(Math.floor(value / 2 ** shift) & 0xff)
    return this
  }

  putName(name: string): this {
    const encoded = [...new TextEncoder().encode(name)]
    this.bytes.push(encoded.length, ...encoded)
    return this
  }

  base64(): string {
    return btoa(String.fromCharCode(...this.bytes))
  }
}

export class Unpacker {
  private at = 0

  private constructor(private readonly bytes: readonly number[]) {}

  static from(base64: string): Unpacker | undefined {
    try {
      return new Unpacker([...atob(base64)].map((c) => c.charCodeAt(0)))
    } catch {
      return undefined
    }
  }

  get(size: number): number {
    let v = 0
    for (let i = 0; i < size; i++) v = v * 256 + (this.bytes[this.at++] ?? 0)
    return v
  }

  getName(): string {
    const length = this.get(1)
    const name = new TextDecoder().decode(new Uint8Array(this.bytes.slice(this.at, this.at + length)))
    this.at += length
    return name
  }

  /** Was everything read, and nothing more? */
  get complete(): boolean {
    return this.at === this.bytes.length
  }
}
