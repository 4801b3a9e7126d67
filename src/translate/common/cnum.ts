// C library number parsing as the legacy tools saw it on an i386 libc of the
// era: `long` and `unsigned long` are 32 bits wide, so strtol/strtoul
// saturate at 2^31-1 / 2^32-1 instead of failing.

const LONG_MAX = 2 ** 31 - 1
const LONG_MIN = -(2 ** 31)
const ULONG_MAX = 2 ** 32 - 1

/** isspace() in the C locale. */
export const isCSpace = (ch: string | undefined): boolean => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\v' || ch === '\f' || ch === '\r'

interface Scan {
  /** Parsed value, already saturated the way libc does it. */
  readonly value: number
  /** Index of the first character not consumed; 0 when nothing was parsed. */
  readonly end: number
}

const digitValue = (ch: string): number => {
  const c = ch.toLowerCase()
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48
  if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 87
  return 99
}

/** The shared body of strtol/strtoul: whitespace, sign, base prefix, digits. */
const scanInteger = (s: string, base: number): { negative: boolean; magnitude: number; end: number } => {
  let i = 0
  while (isCSpace(s[i])) i++
  let negative = false
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-'
    i++
  }
  const hasHexPrefix = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s[i + 2] ?? '') < 16
  if ((base === 0 || base === 16) && hasHexPrefix) {
    base = 16
    i += 2
  } else if (base === 0) {
    base = s[i] === '0' ? 8 : 10
  }
  const start = i
  let magnitude = 0
  while (i < s.length && digitValue(s[i] ?? '') < base) {
    // Cap early: every caller saturates far below 2^53.
    magnitude = Math.min(magnitude * base + digitValue(s[i] ?? ''), 2 ** 40)
    i++
  }
  if (i === start) return { negative: false, magnitude: 0, end: 0 }
  return { negative, magnitude, end: i }
}

/** strtol(s, &end, base) with a 32-bit long. */
export const strtol = (s: string, base: number): Scan => {
  const { negative, magnitude, end } = scanInteger(s, base)
  const signed = negative ? -magnitude : magnitude
  return { value: Math.max(LONG_MIN, Math.min(LONG_MAX, signed)), end }
}

/** strtoul(s, &end, base) with a 32-bit unsigned long (negation wraps). */
export const strtoul = (s: string, base: number): Scan => {
  const { negative, magnitude, end } = scanInteger(s, base)
  if (magnitude > ULONG_MAX) return { value: ULONG_MAX, end }
  return { value: negative ? (2 ** 32 - magnitude) % 2 ** 32 : magnitude, end }
}

/**
 * The tools' string_to_number(): a whole-string decimal strtol within
 * [min, max], or -1.
 */
export const stringToNumber = (s: string, min: number, max: number): number => {
  const { value, end } = strtol(s, 10)
  if (end === 0 || end !== s.length) return -1
  return value >= min && value <= max ? value : -1
}

/** The tools' parse_hexbyte(): a whole-string hex strtol within 0-255, or undefined. */
export const hexByteValue = (s: string): number | undefined => {
  const { value, end } = strtol(s, 16)
  return end === 0 || end !== s.length || value < 0 || value > 255 ? undefined : value
}
