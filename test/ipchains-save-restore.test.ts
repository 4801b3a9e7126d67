// ipchains-save / ipchains-restore beyond the goldens:
// - every rule ipchains accepts comes back field for field from its saved
//   line, both through plain ipchains and through a restore (generated
//   command lines, fixed seed), and from its record in the nft comment;
// - a restore is one kernel transaction however many lines and prompts it
//   has; a listing line commits what came before it.
import t from 'tap'
import type { NftTable } from '../src/translate/nft/ir.ts'
import type { KernelTable } from '../src/translate/nft/kernel-table.ts'
import { decodeRule, encodeRule } from '../src/translate/ipchains/codec.ts'
import { expandRules } from '../src/translate/ipchains/execute.ts'
import { normaliseRule } from '../src/translate/ipchains/model.ts'
import { parseInvocation } from '../src/translate/ipchains/parse.ts'
import { savedRuleWords } from '../src/translate/ipchains/save.ts'
import { validate } from '../src/translate/ipchains/validate.ts'
import { MemoryStore } from './helpers/memory-store.ts'
import { fixtureNames } from './helpers/sys.ts'
import { pureWorld, runPure } from './helpers/tools.ts'

const names = fixtureNames()

const ruleOf = async (args: readonly string[]) => {
  const cmd = await validate(
    parseInvocation('ipchains', args, (n) => names.protoNumber(n)),
    { program: 'ipchains', names, stdout: () => {}, stdinIsTty: () => false, ipForward: () => undefined },
  )
  return expandRules(cmd).map(normaliseRule)
}

// A small deterministic PRNG (mulberry32).
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
}

const commandLines = (count: number, next: () => number): string[][] => {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  const maybe = (words: string[]): string[] => (next() < 0.4 ? words : [])
  const not = (): string[] => maybe(['!'])
  const byte = (): number => Math.floor(next() * 256)
  const port = (): string => pick(['0', '1', '53', '1023', '1024', '65535', `${Math.floor(next() * 65536)}`])
  const ports = (): string => pick([port(), `${port()}:${port()}`, `:${port()}`, `${port()}:`, ':'])
  const address = (): string =>
    `${byte()}.${byte()}.${byte()}.${byte()}/${pick([`${Math.floor(next() * 33)}`, `${byte()}.${byte()}.${byte()}.${byte()}`])}`
  const lines: string[][] = []
  while (lines.length < count) {
    const proto = pick(['0', 'tcp', 'udp', 'icmp', '50', '300'])
    const portsOk = ['tcp', 'udp', 'icmp'].includes(proto)
    const endpoint = (option: string): string[] => maybe([option, ...not(), address(), ...(portsOk ? maybe([...not(), ports()]) : [])])
    lines.push([
      ...endpoint('-s'),
      ...endpoint('-d'),
      ...maybe(['-p', proto]),
      ...maybe(['-i', ...not(), pick(['eth0', 'ppp+', '+', 'a-very-long-if16'])]),
      ...maybe(['-j', pick(['ACCEPT', 'DENY', 'REJECT', 'MASQ', 'RETURN', 'REDIRECT', 'sub'])]),
      ...maybe(['-j', 'REDIRECT', port()]),
      ...maybe([...not(), '-y']),
      ...maybe([...not(), '-f']),
      ...maybe(['-l']),
      ...maybe(['-m', pick(['', '+', '-']) + `${Math.floor(next() * 2 ** 32)}`]),
      ...maybe(['-o', ...maybe([port()])]),
      ...maybe(['-t', pick(['0x01', '0xFF', '0xFD', '0xE3']), pick(['0x00', '0x10', '0x02', '0x08'])]),
    ])
  }
  return lines
}

t.test('saved lines give back every rule ipchains accepts', async (t) => {
  let accepted = 0
  const differing: string[] = []
  for (const line of commandLines(3000, random(2207))) {
    let rules
    try {
      rules = await ruleOf(['-A', 'sub', ...line])
    } catch {
      continue // ipchains refused the generated line: nothing to save
    }
    accepted++
    for (const rule of rules) {
      const words = savedRuleWords(rule)
      const back = await ruleOf(['-A', 'sub', ...words]).catch(() => [])
      if (JSON.stringify(back) !== JSON.stringify([rule])) differing.push(`${line.join(' ')} => ${words.join(' ')}`)
    }
  }
  t.same(differing, [])
  t.ok(accepted > 500, `${accepted} generated rules were accepted`)
})

// Names ipchains accepts that look like options, inversions or spaces.
const ODD_NAMES = [
  ['-j', '-x'],
  ['-j', '!'],
  ['-j', 'a%b'],
  ['-i', '-x'],
  ['-i', '!+'],
  ['-i', 'a b+'],
  ['-i', '!', '+'],
  ['-i', '!', ''],
  ['-i', 'eth++'],
]

t.test('records give back every rule ipchains accepts', async (t) => {
  let readable = 0
  const differing: string[] = []
  const lines = [...commandLines(3000, random(2207)), ...ODD_NAMES]
  for (const line of lines) {
    const rules = await ruleOf(['-A', 'sub', ...line]).catch(() => [])
    for (const rule of rules) {
      const record = encodeRule(rule)
      if (!record.startsWith('=')) readable++
      if (JSON.stringify(decodeRule(record)) !== JSON.stringify(rule)) differing.push(`${line.join(' ')} => ${record}`)
    }
  }
  t.same(differing, [])
  t.ok(readable > 500, `${readable} records were readable`)
})

class CountingStore extends MemoryStore {
  commits = 0
  override commit(current: KernelTable | undefined, next: NftTable) {
    this.commits++
    return super.commit(current, next)
  }
}

const SAVED = `:input DENY
:forward ACCEPT
:output ACCEPT
:ppp-in -
-A input -s 0.0.0.0/0.0.0.0 -d 0.0.0.0/0.0.0.0 -i ppp0 -j ppp-in
-A ppp-in -s 192.168.1.0/255.255.255.0 -d 0.0.0.0/0.0.0.0 -j DENY -l
-A ppp-in -s 0.0.0.0/0.0.0.0 -d 0.0.0.0/0.0.0.0 21:21 -p 6 -j ACCEPT
`

t.test('a restore is one transaction, prompts included', async (t) => {
  const world = { ...pureWorld(), store: new CountingStore() }
  await runPure(world, ['ipchains', '-N', 'ppp-in'])
  world.store.commits = 0
  const run = await runPure(world, ['ipchains-restore', '-p'], { stdin: SAVED, ttyLines: ['f'] })
  t.equal(run.status, 0)
  t.match(run.stderr, /Skip or flush\? \[S\/f\]\? Flushing `ppp-in'/)
  t.equal(world.store.commits, 1)
  const saved = await runPure(world, ['ipchains-save'])
  t.equal(saved.stdout, SAVED)
})

t.test('a listing line commits what came before it', async (t) => {
  const world = { ...pureWorld(), store: new CountingStore() }
  const run = await runPure(world, ['ipchains-restore', '-p'], { stdin: `${SAVED}-L -n\n-A input -j ACCEPT\n` })
  t.equal(run.status, 0)
  t.match(run.stdout, /^Chain input \(policy DENY\):/)
  t.equal(world.store.commits, 2)
})
