// GNU getopt_long as the legacy tools linked it (glibc 2.1 era): clustering,
// optional arguments that must be attached, unique long-option prefixes,
// RETURN_IN_ORDER ('-' optstring) and PERMUTE ordering, and the error
// messages getopt printed itself. Handlers may read and consume the words
// after an option through `peek`/`take`, exactly as the C code did with
// argv[optind++].

export interface LongOption {
  readonly name: string
  /** 0 = no argument, 1 = required, 2 = optional (only as --name=value). */
  readonly hasArg: 0 | 1 | 2
  /** The code returned for it (a short option letter or a private code). */
  readonly val: string
}

export type GetoptEvent =
  | { readonly kind: 'option'; readonly code: string; readonly optarg: string | undefined }
  | { readonly kind: 'nonoption'; readonly word: string }
  /** getopt already printed `message` to stderr and returned '?'. */
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'end' }

type Ordering = 'permute' | 'return-in-order' | 'require-order'

const isNonOption = (word: string): boolean => word[0] !== '-' || word.length === 1

export class Getopt {
  /** argv including the program name at index 0, permuted in place. */
  readonly argv: string[]
  optind = 1
  private nextchar = ''
  private firstNonopt = 1
  private lastNonopt = 1
  private readonly ordering: Ordering
  private readonly shortopts: string

  constructor(
    readonly program: string,
    args: readonly string[],
    optstring: string,
    private readonly longopts: readonly LongOption[] = [],
  ) {
    this.argv = [program, ...args]
    const mode = optstring[0]
    this.ordering = mode === '-' ? 'return-in-order' : mode === '+' ? 'require-order' : 'permute'
    this.shortopts = mode === '-' || mode === '+' ? optstring.slice(1) : optstring
  }

  get argc(): number {
    return this.argv.length
  }

  /** argv[optind + offset], as the handlers inspect it. */
  peek(offset = 0): string | undefined {
    return this.argv[this.optind + offset]
  }

  /** argv[optind++] */
  take(): string | undefined {
    return this.argv[this.optind++]
  }

  next(): GetoptEvent {
    if (this.nextchar === '') {
      const start = this.startWord()
      if (start) return start
    }
    return this.shortOption()
  }

  // Moves to the next argv element; returns an event unless it starts a short cluster.
  private startWord(): GetoptEvent | undefined {
    const argc = this.argc
    if (this.lastNonopt > this.optind) this.lastNonopt = this.optind
    if (this.firstNonopt > this.optind) this.firstNonopt = this.optind
    if (this.ordering === 'permute') {
      if (this.firstNonopt !== this.lastNonopt && this.lastNonopt !== this.optind) this.exchange()
      else if (this.lastNonopt !== this.optind) this.firstNonopt = this.optind
      while (this.optind < argc && isNonOption(this.argv[this.optind] ?? '')) this.optind++
      this.lastNonopt = this.optind
    }
    if (this.optind !== argc && this.argv[this.optind] === '--') {
      this.optind++
      if (this.firstNonopt !== this.lastNonopt && this.lastNonopt !== this.optind) this.exchange()
      else if (this.firstNonopt === this.lastNonopt) this.firstNonopt = this.optind
      this.lastNonopt = argc
      this.optind = argc
    }
    if (this.optind === argc) {
      if (this.firstNonopt !== this.lastNonopt) this.optind = this.firstNonopt
      return { kind: 'end' }
    }
    const word = this.argv[this.optind] ?? ''
    if (isNonOption(word)) {
      if (this.ordering === 'require-order') return { kind: 'end' }
      this.optind++
      return { kind: 'nonoption', word }
    }
    if (this.longopts.length > 0 && word[1] === '-') return this.longOption(word.slice(2))
    this.nextchar = word.slice(1)
    return undefined
  }

  // Swaps the skipped non-options [first, last) with the options [last, optind).
  private exchange(): void {
    const { firstNonopt: bottom, lastNonopt: middle, optind: top } = this
    const nonopts = this.argv.slice(bottom, middle)
    const opts = this.argv.slice(middle, top)
    this.argv.splice(bottom, top - bottom, ...opts, ...nonopts)
    this.firstNonopt += top - middle
    this.lastNonopt = top
  }

  private longOption(text: string): GetoptEvent {
    const word = this.argv[this.optind] ?? ''
    const eq = text.indexOf('=')
    const name = eq === -1 ? text : text.slice(0, eq)
    let found: LongOption | undefined
    let ambiguous = false
    for (const option of this.longopts) {
      if (!option.name.startsWith(name)) continue
      if (option.name.length === name.length) {
        found = option
        ambiguous = false
        break
      }
      if (!found) found = option
      else if (found.hasArg !== option.hasArg || found.val !== option.val) ambiguous = true
    }
    this.optind++
    if (ambiguous) return this.fail(`option \`${word}' is ambiguous`)
    if (!found) return this.fail(`unrecognized option \`--${text}'`)
    if (eq !== -1) {
      if (found.hasArg === 0) return this.fail(`option \`--${found.name}' doesn't allow an argument`)
      return { kind: 'option', code: found.val, optarg: text.slice(eq + 1) }
    }
    if (found.hasArg === 1) {
      if (this.optind >= this.argc) return this.fail(`option \`${word}' requires an argument`)
      return { kind: 'option', code: found.val, optarg: this.take() }
    }
    return { kind: 'option', code: found.val, optarg: undefined }
  }

  private shortOption(): GetoptEvent {
    const c = this.nextchar[0] ?? ''
    this.nextchar = this.nextchar.slice(1)
    // glibc advances optind as soon as it starts on the cluster's last letter.
    if (this.nextchar === '') this.optind++
    const at = c === ':' ? -1 : this.shortopts.indexOf(c)
    if (at === -1) return this.fail(`invalid option -- ${c}`)
    if (this.shortopts[at + 1] !== ':') return { kind: 'option', code: c, optarg: undefined }
    const rest = this.nextchar
    this.nextchar = ''
    if (rest !== '') {
      this.optind++
      return { kind: 'option', code: c, optarg: rest }
    }
    if (this.shortopts[at + 2] === ':') return { kind: 'option', code: c, optarg: undefined }
    if (this.optind >= this.argc) return this.fail(`option requires an argument -- ${c}`)
    return { kind: 'option', code: c, optarg: this.take() }
  }

  private fail(text: string): GetoptEvent {
    this.nextchar = ''
    return { kind: 'error', message: `${this.program}: ${text}\n` }
  }
}
