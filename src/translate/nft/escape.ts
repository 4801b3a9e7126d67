// Legacy names inside nft identifiers and comments.
//
// nft 1.0.6 identifiers allow letters, digits and "/-_."; its quoted strings
// have no escape for '"'. Legacy chain and interface names may contain
// anything but NUL, so both encodings keep a safe set verbatim and write
// every other byte as a hex escape.

const bytesOf = (text: string): number[] => [...new TextEncoder().encode(text)]
const hex = (b: number): string => b.toString(16).padStart(2, '0')

const encodeWith = (text: string, safe: RegExp, mark: string): string =>
  bytesOf(text)
    .map((b) => {
      const ch = String.fromCharCode(b)
      return b < 0x80 && safe.test(ch) ? ch : `${mark}${hex(b)}`
    })
    .join('')

const decodeWith = (text: string, mark: string): string | undefined => {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === mark) {
      const digits = text.slice(i + 1, i + 3)
      if (!/^[0-9a-f]{2}$/.test(digits)) return undefined
      bytes.push(Number.parseInt(digits, 16))
      i += 2
    } else bytes.push(text.charCodeAt(i))
  }
  return new TextDecoder().decode(new Uint8Array(bytes))
}

/** A legacy name as the tail of an nft identifier ('.' starts an escape). */
export const identifierPart = (name: string): string => encodeWith(name, /[A-Za-z0-9_-]/, '.')
export const fromIdentifierPart = (text: string): string | undefined => decodeWith(text, '.')

/** A legacy word inside a rule comment: printable ASCII except space, '!', '"' and '%'. */
export const commentWord = (word: string): string => encodeWith(word, /[#-$&-~]/, '%')
export const fromCommentWord = (text: string): string | undefined => decodeWith(text, '%')
