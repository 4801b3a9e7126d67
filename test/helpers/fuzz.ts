// Seeded argv fuzzing of the legacy tools (pure part): vectors (argv and
// stdin) that mix each tool's option words with plausible and hostile
// values, or mutate a golden fixture command; and what in a command's output
// or exit status betrays a crash. Every vector is a function of (tool, seed,
// index) alone, so a failure is reproduced from the three numbers it prints.
import { quote } from 'shell-quote'
import { caseNames, readCase } from './golden.ts'

export const FUZZ_TOOLS = ['ipchains', 'ipchains-save', 'ipchains-restore', 'ipfwadm', 'ipautofw', 'ipmasqadm'] as const
export type FuzzTool = (typeof FUZZ_TOOLS)[number]

/** The exit statuses each tool documents (spec/legacy/*.md). */
export const DOCUMENTED_STATUS: Readonly<Record<FuzzTool, readonly number[]>> = {
  ipchains: [0, 1, 2, 3],
  'ipchains-save': [0, 1],
  'ipchains-restore': [0, 1],
  ipfwadm: [0, 1, 2, 255],
  ipautofw: [0, 1],
  ipmasqadm: [0, 1, 2, 255],
}

export interface Vector {
  readonly argv: readonly string[]
  readonly stdin: string
}

export type Rng = () => number

/** mulberry32: small, fast, and the same sequence on every machine. */
export const seededRng = (seed: number): Rng => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a of the text, mixed into the seed: one independent stream per vector. */
export const streamSeed = (seed: number, text: string): number => {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h
}

const below = (rng: Rng, n: number): number => Math.floor(rng() * n)
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[below(rng, xs.length)] as T

// ---------------------------------------------------------------------------
// Values

const POOLS = {
  addr: [
    '0/0',
    '0.0.0.0/0',
    '10.0.0.0/8',
    '192.168.1.0/24',
    '192.168.1.1',
    '127.0.0.1',
    '10.1.2.3/255.255.0.0',
    '1.2.3.4/32',
    '10.64.0.1',
    'localhost',
    '0x0a000001',
    '012.1.1.1',
    '10.1',
    '1.2.3.4/0',
    '255.255.255.255',
    '192.168.1.0/255.0.255.0',
  ],
  port: ['80', 'www', 'telnet', '1024:65535', ':1023', '1024:', '0', '65535', 'ftp-data', '6000:6010', '53', 'domain'],
  ports: ['80', '1024:65535', 'www', '22 80', '6000:6010', '0', '65535', 'telnet ftp'],
  proto: ['tcp', 'udp', 'icmp', 'all', 'TCP', '6', '17', '1', '0', 'ip'],
  icmp: ['echo-request', 'echo-reply', '0', '8', '3', 'destination-unreachable', 'port-unreachable', 'ping'],
  iface: ['eth0', 'lo', 'ppp+', 'eth0+', 'ppp0', '+', 'eth0:1'],
  chain: ['input', 'output', 'forward', 'a', 'b', 'tcpin', 'udpin', 'ppp-in', 'nosuch', 'INPUT', 'icmp'],
  target: ['ACCEPT', 'DENY', 'REJECT', 'MASQ', 'REDIRECT', 'RETURN', 'a', 'b', 'tcpin', 'input', 'nosuch'],
  policy: ['ACCEPT', 'DENY', 'REJECT', 'MASQ', 'RETURN', 'accept'],
  number: ['1', '2', '0', '3', '-1', '100'],
  hexbyte: ['0x01', '0x10', '0xFE', '0x00', '0xff', 'ff'],
  mark: ['0x10', '1', '-1', '+5', '0xffffffff'],
  timeout: ['7200', '10', '60', '0', '1'],
  fwPolicy: ['accept', 'deny', 'reject', 'masquerade', 'a', 'm', 'acc', 'd', 'r'],
  fwDirection: ['in', 'out', 'both', 'i', 'o'],
  afProto: ['tcp', 'udp', 't', 'u', 'x'],
  afPort: ['6970', '7170', '7070', '1', '65535', '65536', '0', '-1'],
  host: ['192.168.1.10', '10.64.0.1', '1.2.3', '1.2.3.4.5', 'a.b.c.d', '0.0.0.0'],
  pref: ['1', '2', '0', '-1', '10'],
} as const
type Kind = keyof typeof POOLS

const HOSTILE = [
  '',
  ' ',
  '!',
  '!!',
  '-',
  '--',
  '---',
  '-0',
  '0',
  '-1',
  '4294967295',
  '4294967296',
  '18446744073709551616',
  '99999999999999999999999',
  '0x',
  '0xffffffffffffffff',
  '1e3',
  'NaN',
  'Infinity',
  '1.2.3.4.5',
  '256.1.1.1',
  '1.2.3.4/33',
  '1.2.3.4/-1',
  '1.2.3.4/',
  '/',
  '/0',
  ':',
  '1:',
  ':1',
  '65535:0',
  '65536',
  '1:2:3',
  '%s%s%n',
  '${IFS}',
  "'",
  '"',
  '\\',
  '\t',
  '\n',
  'a\nb',
  '=',
  '--=',
  '-=x',
  'é',
  'ü.example',
  '\u202e',
  '💥',
  '\uffff',
  '\ud800',
  'a'.repeat(16),
  'b'.repeat(9),
  'c'.repeat(300),
  '--list=',
  '--li',
  '--s',
  '--help=x',
  '-h',
  '-V',
]

/** A hostile word: from the list, or made up (long, numeric, unicode). */
const hostile = (rng: Rng): string => {
  const r = rng()
  if (r < 0.75) return pick(rng, HOSTILE)
  if (r < 0.85) return pick(rng, ['x', '9', '.', '/', ':', 'é']).repeat(1 + below(rng, 5000))
  if (r < 0.95) return String(Math.floor(rng() * 2 ** 53)) + pick(rng, ['', '/', ':', '.', 'x'])
  return String.fromCodePoint(...Array.from({ length: 1 + below(rng, 8) }, () => 1 + below(rng, 0x2ffff)))
}

/** How often a value is hostile rather than plausible: 'mild' keeps most commands past the parser, to reach the kernel. */
type Hostility = 'mild' | 'wild'
const value = (rng: Rng, kind: Kind, hostility: Hostility = 'mild'): string =>
  rng() < (hostility === 'mild' ? 0.95 : 0.7) ? pick(rng, POOLS[kind]) : hostile(rng)

// ---------------------------------------------------------------------------
// Grammars: each tool's commands and options, with the words they take.

interface Option {
  /** Spellings: the short one first, then long ones (getopt accepts their unique prefixes). */
  readonly words: readonly string[]
  readonly args?: readonly Kind[]
  /** May be preceded by '!'. */
  readonly invertible?: boolean
}

interface Grammar {
  /** Words every command line starts with (ipmasqadm's module). */
  readonly lead: readonly string[]
  readonly commands: readonly Option[]
  readonly options: readonly Option[]
}

const IPCHAINS: Grammar = {
  lead: [],
  commands: [
    { words: ['-A', '--append'], args: ['chain'] },
    { words: ['-D', '--delete'], args: ['chain', 'number'] },
    { words: ['-I', '--insert'], args: ['chain', 'number'] },
    { words: ['-R', '--replace'], args: ['chain', 'number'] },
    { words: ['-L', '--list'], args: ['chain'] },
    { words: ['-F', '--flush'], args: ['chain'] },
    { words: ['-Z', '--zero'], args: ['chain'] },
    { words: ['-C', '--check'], args: ['chain'] },
    { words: ['-N', '--new-chain'], args: ['chain'] },
    { words: ['-X', '--delete-chain'], args: ['chain'] },
    { words: ['-P', '--policy'], args: ['chain', 'policy'] },
    { words: ['-M', '--masquerading'] },
    { words: ['-S', '--set'], args: ['timeout', 'timeout', 'timeout'] },
    { words: ['-h', '--help'], args: ['icmp'] },
    { words: ['-V', '--version'] },
  ],
  options: [
    { words: ['-s', '--source', '--src'], args: ['addr', 'port'], invertible: true },
    { words: ['-d', '--destination', '--dst'], args: ['addr', 'port'], invertible: true },
    { words: ['--source-port', '--sport'], args: ['port'], invertible: true },
    { words: ['--destination-port', '--dport'], args: ['port'], invertible: true },
    { words: ['--icmp-type'], args: ['icmp'], invertible: true },
    { words: ['-p', '--protocol'], args: ['proto'], invertible: true },
    { words: ['-i', '--interface'], args: ['iface'], invertible: true },
    { words: ['-j', '--jump'], args: ['target', 'port'] },
    { words: ['-t', '--TOS'], args: ['hexbyte', 'hexbyte'] },
    { words: ['-m', '--mark'], args: ['mark'] },
    { words: ['-o', '--output'], args: ['number'] },
    { words: ['-f', '--fragments'], invertible: true },
    { words: ['-y', '--syn'], invertible: true },
    { words: ['-b', '--bidirectional'] },
    { words: ['-v', '--verbose'] },
    { words: ['-n', '--numeric'] },
    { words: ['-l', '--log'] },
    { words: ['-x', '--exact'] },
    { words: ['--line-numbers'] },
    { words: ['--no-warnings'] },
  ],
}

const IPFWADM: Grammar = {
  lead: [],
  commands: [
    { words: ['-A'], args: ['fwDirection'] },
    { words: ['-I'] },
    { words: ['-O'] },
    { words: ['-F'] },
    { words: ['-M'] },
    { words: ['-a'], args: ['fwPolicy'] },
    { words: ['-i'], args: ['fwPolicy'] },
    { words: ['-d'], args: ['fwPolicy'] },
    { words: ['-l'] },
    { words: ['-z'] },
    { words: ['-f'] },
    { words: ['-p'], args: ['fwPolicy'] },
    { words: ['-s'], args: ['timeout', 'timeout', 'timeout'] },
    { words: ['-c'] },
    { words: ['-h'] },
  ],
  options: [
    { words: ['-P'], args: ['proto'] },
    { words: ['-S'], args: ['addr', 'ports'] },
    { words: ['-D'], args: ['addr', 'ports'] },
    { words: ['-V'], args: ['addr'] },
    { words: ['-W'], args: ['iface'] },
    { words: ['-t'], args: ['hexbyte', 'hexbyte'] },
    { words: ['-r'], args: ['port'] },
    ...['-b', '-e', '-k', '-m', '-n', '-o', '-v', '-x', '-y'].map((w) => ({ words: [w] })),
  ],
}

const AUTOFW: Grammar = {
  lead: [],
  commands: [{ words: ['-A'] }, { words: ['-D'] }, { words: ['-F'] }],
  options: [
    { words: ['-r'], args: ['afProto', 'afPort', 'afPort'] },
    { words: ['-d'], args: ['afProto', 'afPort', 'afPort'] },
    { words: ['-c'], args: ['afProto', 'afPort'] },
    { words: ['-h'], args: ['host'] },
    { words: ['-p'], args: ['afProto', 'afPort'] },
    ...['-u', '-i', '-v'].map((w) => ({ words: [w] })),
  ],
}

const PORTFW: Grammar = {
  lead: ['portfw'],
  commands: ['-a', '-d', '-f', '-l', '-h'].map((w) => ({ words: [w] })),
  options: [
    { words: ['-P'], args: ['afProto'] },
    { words: ['-L'], args: ['host', 'afPort'] },
    { words: ['-R'], args: ['host', 'afPort'] },
    { words: ['-p'], args: ['pref'] },
    { words: ['-n'] },
  ],
}

const MFW: Grammar = {
  lead: ['mfw'],
  commands: ['-A', '-I', '-E', '-D', '-F', '-S', '-L', '-h'].map((w) => ({ words: [w] })),
  options: [{ words: ['-m'], args: ['mark'] }, { words: ['-r'], args: ['host', 'afPort'] }, { words: ['-p'], args: ['pref'] }, { words: ['-n'] }],
}

const GRAMMARS: Readonly<Record<FuzzTool, readonly Grammar[]>> = {
  ipchains: [IPCHAINS],
  'ipchains-save': [],
  'ipchains-restore': [],
  ipfwadm: [IPFWADM],
  ipautofw: [AUTOFW],
  ipmasqadm: [{ ...AUTOFW, lead: ['autofw'] }, PORTFW, MFW],
}

/** How an option is spelled: short, long, a long prefix, or with its argument attached. */
const spelled = (rng: Rng, option: Option, hostility: Hostility = 'mild'): string[] => {
  const word = pick(rng, option.words)
  const args = option.args ?? []
  const first = args[0]
  const r = rng()
  if (r < 0.08 && first !== undefined)
    return [
      word.startsWith('--') ? `${word}=${value(rng, first, hostility)}` : `${word}${value(rng, first, hostility)}`,
      ...argsOf(rng, args.slice(1), hostility),
    ]
  if (r < 0.16 && word.startsWith('--')) return [word.slice(0, 3 + below(rng, word.length - 2)), ...argsOf(rng, args, hostility)]
  return [word, ...argsOf(rng, args, hostility)]
}

// Each argument is sometimes missing (and with it the ones after it).
const argsOf = (rng: Rng, kinds: readonly Kind[], hostility: Hostility): string[] => {
  const words: string[] = []
  for (const kind of kinds) {
    if (rng() < (hostility === 'mild' ? 0.02 : 0.1)) break
    words.push(
      ...value(rng, kind, hostility)
        .split(' ')
        .filter((w, i, all) => all.length === 1 || w !== ''),
    )
  }
  return words
}

/** A command line from the grammar: a command (sometimes two), options, now and then '!' or a stray word. */
const fromGrammar = (rng: Rng, grammar: Grammar, hostility: Hostility): string[] => {
  const wild = hostility === 'wild'
  const options = [pick(rng, grammar.commands), ...Array.from({ length: below(rng, wild ? 6 : 4) }, () => pick(rng, grammar.options))]
  if (rng() < (wild ? 0.1 : 0.02)) options.push(pick(rng, grammar.commands))
  const words = [...grammar.lead]
  for (const option of options) {
    if (rng() < (option.invertible ? 0.15 : wild ? 0.03 : 0)) words.push('!')
    words.push(...spelled(rng, option, hostility))
  }
  if (wild && rng() < 0.2) words.splice(below(rng, words.length + 1), 0, hostile(rng))
  return words
}

// ---------------------------------------------------------------------------
// Mutations of known-good command lines

type Mutation = (rng: Rng, words: string[], grammars: readonly Grammar[]) => string[]

const at = (rng: Rng, words: readonly string[]): number => below(rng, Math.max(1, words.length))

const MUTATIONS: readonly Mutation[] = [
  (rng, w) => w.filter((_, i) => i !== at(rng, w)),
  (rng, w) => {
    const i = at(rng, w)
    return [...w.slice(0, i + 1), ...w.slice(i)]
  },
  (rng, w) => {
    const i = at(rng, w)
    const copy = [...w]
    ;[copy[i], copy[i + 1]] = [copy[i + 1] ?? '', copy[i] ?? '']
    return copy.filter((x, j) => j < w.length || x !== '')
  },
  (rng, w) => w.map((x, i) => (i === at(rng, w) ? hostile(rng) : x)),
  (rng, w) => w.map((x, i) => (i === at(rng, w) ? value(rng, pick(rng, Object.keys(POOLS) as Kind[])) : x)),
  (rng, w) => w.map((x, i) => (i === at(rng, w) ? x.slice(0, below(rng, x.length)) : x)),
  (rng, w) => {
    const i = below(rng, w.length + 1)
    return [...w.slice(0, i), '!', ...w.slice(i)]
  },
  (rng, w, grammars) => {
    const grammar = grammars.length ? pick(rng, grammars) : undefined
    if (!grammar) return [...w, hostile(rng)]
    const i = below(rng, w.length + 1)
    return [...w.slice(0, i), ...spelled(rng, pick(rng, [...grammar.commands, ...grammar.options])), ...w.slice(i)]
  },
  (rng, w) => w.slice(0, below(rng, w.length)),
  // A number in a word becomes huge, negative or empty.
  (rng, w) => {
    const i = at(rng, w)
    return w.map((x, j) => (j === i ? x.replace(/\d+/, pick(rng, ['4294967296', '-1', '', '99999999999', '256', '033'])) : x))
  },
]

const mutated = (rng: Rng, words: readonly string[], grammars: readonly Grammar[]): string[] => {
  let out = [...words]
  for (let n = rng() < 0.6 ? 1 : 2 + below(rng, 2); n > 0; n--) out = pick(rng, MUTATIONS)(rng, out, grammars)
  return out
}

// ---------------------------------------------------------------------------
// Vectors

/** The fixture command lines of a tool (argv without the program), with their stdin. */
const fixtureVectors = (tool: FuzzTool): Vector[] =>
  caseNames(tool).flatMap((name) =>
    readCase(tool, name)
      .filter((c) => c.argv[0] === tool)
      .map((c) => ({ argv: c.argv.slice(1), stdin: c.stdin ?? '' })),
  )

const fixtureCache = new Map<FuzzTool, Vector[]>()
const fixturesOf = (tool: FuzzTool): Vector[] => {
  let vectors = fixtureCache.get(tool)
  if (!vectors) fixtureCache.set(tool, (vectors = fixtureVectors(tool)))
  return vectors
}

/** One line of a saved ipchains file: a chain header, a rule, a comment, or junk. */
const savedLine = (rng: Rng): string => {
  const r = rng()
  if (r < 0.25) return `:${value(rng, 'chain')} ${rng() < 0.8 ? value(rng, 'policy') : '-'}`
  if (r < 0.8) return fromGrammar(rng, { ...IPCHAINS, commands: [{ words: ['-A'], args: ['chain'] }] }, 'mild').join(' ')
  if (r < 0.9) return pick(rng, ['', '# comment', '   ', '\t-A input -j ACCEPT  '])
  return hostile(rng)
}

/** Lines of a saved file mutated: dropped, repeated, swapped, or one line's words mutated. */
const mutatedSaved = (rng: Rng, text: string): string => {
  const lines = text.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '')
  for (let n = 1 + below(rng, 3); n > 0; n--) {
    const i = at(rng, lines)
    const r = rng()
    if (r < 0.2) lines.splice(i, 1)
    else if (r < 0.35) lines.splice(i, 0, lines[i] ?? '')
    else if (r < 0.5) lines.splice(i, 0, savedLine(rng))
    else lines[i] = mutated(rng, (lines[i] ?? '').split(/[ \t]+/), [IPCHAINS]).join(' ')
  }
  return lines.map((l) => `${l}\n`).join('')
}

const restoreVector = (rng: Rng): Vector => {
  const argv = ['-f', '-v', '-p'].filter(() => rng() < 0.4)
  if (rng() < 0.1) argv.splice(below(rng, argv.length + 1), 0, hostile(rng))
  const fixtures = fixturesOf('ipchains-restore').filter((v) => v.stdin !== '')
  const stdin =
    rng() < 0.6 && fixtures.length
      ? mutatedSaved(rng, pick(rng, fixtures).stdin)
      : Array.from({ length: below(rng, 8) }, () => `${savedLine(rng)}\n`).join('')
  return { argv, stdin }
}

const saveVector = (rng: Rng): Vector => {
  const argv = [value(rng, 'chain'), '-v'].filter(() => rng() < 0.5)
  if (rng() < 0.2) argv.splice(below(rng, argv.length + 1), 0, hostile(rng))
  return { argv, stdin: '' }
}

/**
 * The first vectors of every run, whatever the seed: what the fuzzer once
 * flagged, so a wrong fix of the check or the tool shows at once.
 */
const REGRESSIONS: Readonly<Record<FuzzTool, readonly Vector[]>> = {
  // A failed -X without a chain has deleted the chains it could (as 2.2 did), not a failed command changing the
  // kernel: chain a of the loaded fixtures (check-user-chains) emptied and unreferenced, b still holds a rule.
  ipchains: [
    { argv: ['-F', 'a'], stdin: '' },
    { argv: ['-D', 'input', '-p', 'tcp', '-d', '0/0', '80', '-j', 'a'], stdin: '' },
    { argv: ['-X'], stdin: '' },
  ],
  'ipchains-save': [],
  'ipchains-restore': [],
  ipfwadm: [],
  ipautofw: [],
  ipmasqadm: [],
}

/**
 * Vector `index` of `tool` for `seed`: past the regressions, a fixture command as it stands (in
 * whatever state the vectors before left, so the kernel stage gets to fail),
 * a mutated one, or one from the grammar, mild or wild.
 */
export const vectorAt = (tool: FuzzTool, seed: number, index: number): Vector => {
  const regression = REGRESSIONS[tool][index]
  if (regression) return regression
  const rng = seededRng(streamSeed(seed, `${tool}#${index}`))
  if (tool === 'ipchains-restore') return restoreVector(rng)
  if (tool === 'ipchains-save') return saveVector(rng)
  const grammars = GRAMMARS[tool]
  const fixtures = fixturesOf(tool)
  const r = rng()
  if (r < 0.15) return { argv: pick(rng, fixtures).argv, stdin: '' }
  if (r < 0.55) return { argv: mutated(rng, pick(rng, fixtures).argv, grammars), stdin: '' }
  return { argv: fromGrammar(rng, pick(rng, grammars), r < 0.85 ? 'mild' : 'wild'), stdin: '' }
}

// ---------------------------------------------------------------------------
// Checks

/** A JavaScript error or stack trace, as Node prints them. */
const JS_TRACE = /^\s+at |node:internal|\b(TypeError|RangeError|ReferenceError|SyntaxError|EvalError|URIError)\b|^(Uncaught )?\w*Error\b/m

export const hasJsTrace = (text: string): boolean => JS_TRACE.test(text)

/**
 * The command line of a vector (its stdin as a here-document), and how to
 * run it again after the vectors since the last reset, which made the state it met.
 */
export const reproduction = (tool: FuzzTool, seed: number, index: number, resetAt: number, vector: Vector): string =>
  `${quote([tool, ...vector.argv])}${vector.stdin ? ` <<'EOF'\n${vector.stdin}EOF` : ''}\n` +
  `(vector #${index}; again: LEGACYFW_FUZZ_SEED=${seed} LEGACYFW_FUZZ_TOOLS=${tool} LEGACYFW_FUZZ_FROM=${resetAt} LEGACYFW_FUZZ_VECTORS=${index + 1} LEGACYFW_FUZZ_BIN=0)`
