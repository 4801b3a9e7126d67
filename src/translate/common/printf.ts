// The few printf conversions the legacy listings use.

/** strlen(): the length of the text in bytes (UTF-8). */
export const byteLength = (text: string): number => new TextEncoder().encode(text).length

/** %-Ns / %Ns (negative width = left-justified, widths count bytes), with an optional precision. */
export const pad = (text: string, width: number, precision?: number): string => {
  const cut = precision === undefined ? text : text.slice(0, precision)
  const fill = ' '.repeat(Math.max(0, Math.abs(width) - byteLength(cut)))
  return width < 0 ? cut + fill : fill + cut
}

/**
 * The rounded counter column: "%5lu " up to 99999, then K and M with 4
 * digits ("%4luK "), rounding half up at each step as the tools did;
 * ipchains added a G step (`giga`), ipfwadm stayed with M.
 */
export const roundedCount = (n: number, giga: boolean): string => {
  if (n <= 99999) return `${pad(String(n), 5)} `
  const k = Math.floor((n + 500) / 1000)
  if (k <= 9999) return `${pad(String(k), 4)}K `
  const m = Math.floor((n + 500000) / 1000000)
  if (m <= 9999 || !giga) return `${pad(String(m), 4)}M `
  return `${pad(String(Math.floor((m + 500) / 1000)), 4)}G `
}

/** %02hX of a byte, uppercase. */
export const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0')

/** 0x%02hX: a byte as the tools wrote TOS values. */
export const hexByte = (n: number): string => `0x${hex2(n)}`

/** %02d. */
export const dec2 = (n: number): string => String(n).padStart(2, '0')

/** A masquerading entry's expiry, given in hundredths of a second, as both tools printed it: "%02d:%02d.%02d". */
export const masqExpiry = (centis: number): string =>
  `${dec2(Math.floor(centis / 6000))}:${dec2(Math.floor(centis / 100) % 60)}.${dec2(centis % 100)}`
