// The autofw command line, read character by character as the original
// did (no getopt): the command is the second character of the first word,
// each option its word's second character, followed by a fixed number of
// words. Messages go to stdout; an error ends the program with status 1.
import { Exit } from '../common/exit.ts'
import { USAGE } from './help.ts'
import { COMMAND, ERROR, PROGRESS, WARNING, autofwError, commandError } from './messages.ts'
import { type AutofwEntry, FLAG, IPPROTO_TCP, IPPROTO_UDP, TYPE, protoName } from './model.ts'
import { sscanf } from './scan.ts'

export type AutofwCommand = 'add' | 'delete' | 'flush'

export interface AutofwRequest {
  readonly command: AutofwCommand
  readonly entry: AutofwEntry
  /** What the program printed before calling the kernel (warnings, -v). */
  readonly stdout: string
}

// The original read argv[index+n] without looking at argc; a missing word
// was a NULL pointer. legacyfw ends with the nearest message (docs/decisions.md).
const MISSING = undefined

interface Parsing {
  printed: string
  entry: { -readonly [K in keyof AutofwEntry]: AutofwEntry[K] }
  /** b1..b4: the octets sscanf wrote, shared by -h and -p as in the original. */
  octets: number[]
}

const protocolOf = (p: Parsing, word: string | undefined, message: string): number => {
  if (word === MISSING || (word[0] !== 't' && word[0] !== 'u')) throw autofwError(p.printed, message)
  return word[0] === 't' ? IPPROTO_TCP : IPPROTO_UDP
}

/** sscanf(word, "%hu", &field): an unparsable word leaves the field as it was. */
const ushortOr = (word: string | undefined, previous: number): number => sscanf(word ?? '', ['hu']).values[0] ?? previous

const whereOf = (octets: readonly number[]): number => {
  const [b1 = 0, b2 = 0, b3 = 0, b4 = 0] = octets
  // b1 + b2*256 + ... in network order; in host order that is b1.b2.b3.b4.
  const stored = (b1 + b2 * 256 + b3 * 65536 + b4 * 16777216) >>> 0
  return (((stored & 0xff) << 24) | (((stored >>> 8) & 0xff) << 16) | (((stored >>> 16) & 0xff) << 8) | (stored >>> 24)) >>> 0
}

// -r and -d: PROTO LOW HIGH.
const rangeOption = (p: Parsing, words: readonly (string | undefined)[], type: number, conflict: string): void => {
  p.entry.protocol = protocolOf(p, words[0], ERROR.protocol)
  if (words[1] === MISSING || words[2] === MISSING) throw autofwError(p.printed, ERROR.illegalPorts)
  p.entry.low = ushortOr(words[1], p.entry.low)
  p.entry.high = ushortOr(words[2], p.entry.high)
  if (p.entry.low === 0 || p.entry.high === 0 || p.entry.high < p.entry.low) throw autofwError(p.printed, ERROR.illegalPorts)
  if (p.entry.type !== 0) throw autofwError(p.printed, conflict)
  p.entry.type = type
}

const hostOption = (p: Parsing, word: string | undefined): void => {
  if (word === MISSING) throw autofwError(p.printed, ERROR.invalidAddress())
  const scanned = sscanf(word, ['hd', { literal: '.' }, 'hd', { literal: '.' }, 'hd', { literal: '.' }, 'hd'])
  if (scanned.result < 0) throw autofwError(p.printed, ERROR.invalidAddress(word))
  scanned.values.forEach((v, i) => (p.octets[i] = v))
  p.entry.where = whereOf(p.octets)
  p.entry.flags &= ~FLAG.SECURE
}

const portOption = (p: Parsing, words: readonly (string | undefined)[]): void => {
  p.entry.protocol = protocolOf(p, words[0], ERROR.protocol)
  if (words[1] === MISSING || words[2] === MISSING) throw autofwError(p.printed, ERROR.illegalPorts)
  p.entry.visible = ushortOr(words[1], p.entry.visible)
  const dot = { literal: '.' } as const
  const scanned = sscanf(words[2], ['hu', dot, 'hu', dot, 'hu', dot, 'hu', { literal: ':' }, 'hu'])
  scanned.values.slice(0, 4).forEach((v, i) => (p.octets[i] = v))
  if (scanned.values.length === 5) p.entry.hidden = scanned.values[4] ?? 0
  p.entry.where = whereOf(p.octets)
  if (p.entry.visible === 0 || p.entry.hidden === 0) throw autofwError(p.printed, ERROR.illegalPorts)
  if (p.entry.type !== 0) throw autofwError(p.printed, ERROR.portConflict)
  p.entry.type = TYPE.PORT
}

const controlOption = (p: Parsing, words: readonly (string | undefined)[]): void => {
  p.entry.ctlproto = protocolOf(p, words[0], ERROR.controlProtocol)
  if (words[1] === MISSING) throw autofwError(p.printed, ERROR.illegalPorts)
  p.entry.ctlport = ushortOr(words[1], p.entry.ctlport)
}

const dotted = (where: number): string => [24, 16, 8, 0].map((s) => (where >>> s) & 0xff).join('.')

const verboseText = (command: AutofwCommand, e: AutofwEntry): string => {
  let text = PROGRESS[command]
  if (command !== 'flush') {
    if (e.type === TYPE.DIRECT) text += PROGRESS.direct(e.low, e.high)
    if (e.type === TYPE.PORT) text += PROGRESS.port(protoName(e.protocol), e.visible, dotted(e.where), e.hidden)
    if (e.type === TYPE.RANGE) {
      text += PROGRESS.range(protoName(e.protocol), e.low, e.high)
      if (e.where) text += PROGRESS.fixedHost(dotted(e.where))
    }
    if (e.ctlproto && e.ctlport) text += PROGRESS.control(protoName(e.ctlproto), e.ctlport)
  }
  if (e.flags & FLAG.USETIME) text += PROGRESS.usetime
  if (e.flags & FLAG.SECURE) text += PROGRESS.secure
  return `${text}\n`
}

const COMMANDS: Record<string, AutofwCommand> = { A: 'add', D: 'delete', F: 'flush' }

/** argv after the program (ipautofw) or module (ipmasqadm autofw) name. */
export const parseAutofw = (args: readonly string[]): AutofwRequest => {
  if (args.length < 1) throw new Exit(1, '', USAGE)
  const command = COMMANDS[args[0]?.[1] ?? '']
  if (command === undefined) throw commandError(COMMAND.invalid)
  if (args.length > 1 && command === 'flush') throw commandError(COMMAND.flushWithOptions)
  const p: Parsing = {
    printed: '',
    entry: { type: 0, protocol: 0, low: 0, high: 0, visible: 0, hidden: 0, where: 0, ctlproto: 0, ctlport: 0, flags: FLAG.USETIME | FLAG.SECURE },
    octets: [0, 0, 0, 0],
  }
  let verbose = false
  for (let i = 1; i < args.length; i++) {
    const word = args[i] ?? ''
    if (word[0] !== '-') {
      p.printed += WARNING.notAnOption(word)
      continue
    }
    const after = (n: number): (string | undefined)[] =>
      args
        .slice(i + 1, i + 1 + n)
        .concat(Array(n).fill(MISSING))
        .slice(0, n)
    switch (word[1]) {
      case 'r':
        rangeOption(p, after(3), TYPE.RANGE, ERROR.rangeConflict)
        i += 3
        break
      case 'd':
        rangeOption(p, after(3), TYPE.DIRECT, ERROR.directConflict)
        i += 3
        break
      case 'h':
        hostOption(p, after(1)[0])
        i += 1
        break
      case 'p':
        portOption(p, after(3))
        i += 3
        break
      case 'c':
        controlOption(p, after(2))
        i += 2
        break
      case 'u':
        p.entry.flags &= ~FLAG.USETIME
        break
      case 'i':
        p.entry.flags &= ~FLAG.SECURE
        break
      case 'v':
        verbose = true
        break
      default:
        throw autofwError(p.printed, ERROR.invalidOption(word))
    }
  }
  const e = p.entry
  if (e.where && e.flags & FLAG.SECURE && e.type !== TYPE.PORT) p.printed += WARNING.hostInSecureMode
  if (!(e.ctlport && e.ctlproto)) e.flags &= ~FLAG.SECURE
  if (e.ctlport && e.ctlproto && !(e.flags & FLAG.SECURE)) p.printed += WARNING.insecureControlPort
  if (!e.type && command !== 'flush') throw autofwError(p.printed, ERROR.noType)
  if (verbose) p.printed += verboseText(command, e)
  return { command, entry: { ...e }, stdout: p.printed }
}
