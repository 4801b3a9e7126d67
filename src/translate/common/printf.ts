// The few printf conversions the legacy listings use.

/** %-Ns / %Ns (negative width = left-justified), with an optional precision. */
export const pad = (text: string, width: number, precision?: number): string => {
  const cut = precision === undefined ? text : text.slice(0, precision)
  return width < 0 ? cut.padEnd(-width) : cut.padStart(width)
}

/**
 * The rounded counter column: "%5llu " up to 99999, then K, M and G with
 * 4 digits ("%4lluK "), rounding half up at each step as the tools did.
 */
export const kiloMegaGiga = (n: number): string => {
  if (n <= 99999) return `${pad(String(n), 5)} `
  const k = Math.floor((n + 500) / 1000)
  if (k <= 9999) return `${pad(String(k), 4)}K `
  const m = Math.floor((n + 500000) / 1000000)
  if (m <= 9999) return `${pad(String(m), 4)}M `
  return `${pad(String(Math.floor((m + 500) / 1000)), 4)}G `
}

/** %02hX of a byte, uppercase. */
export const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0')
