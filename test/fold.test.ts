// The fold of runs of rules into maps of counters (src/translate/nft/fold.ts),
// pure: which runs fold, the elements' keys and counters, and, for random
// runs with overlapping keys, that a lookup in the map picks the counter of
// the rule a linear walk would stop at, for every key.
import t from 'tap'
import { FOLD_MIN, foldRules, intervalText, keyOf } from '../src/translate/nft/fold.ts'
import type { NftRule } from '../src/translate/nft/ir.ts'
import { addrToDotted, dottedToAddr } from '../src/translate/common/inet.ts'

const rule = (matches: string[], counter: string, stmts = ['drop']): NftRule => ({ matches, counter, stmts, comment: `rec ${counter}` })
const groups = (rules: NftRule[]): NftRule[][] => rules.map((r) => [r])

t.test('keys and element texts', async (t) => {
  t.same(keyOf('ip saddr 10.0.0.0/8'), { field: 'ip saddr', type: 'ipv4_addr', lo: 0x0a000000, hi: 0x0affffff })
  t.same(keyOf('tcp dport 22-25'), { field: 'tcp dport', type: 'inet_service', lo: 22, hi: 25 })
  t.same(keyOf('udp sport 53'), { field: 'udp sport', type: 'inet_service', lo: 53, hi: 53 })
  t.equal(keyOf('ip saddr != 10.0.0.0/8'), undefined, 'an inverted match is no key')
  t.equal(keyOf('ip saddr & 0.0.0.1 == 0.0.0.1'), undefined, 'nor a non-contiguous mask')
  t.equal(keyOf('tcp dport != 80'), undefined)
  t.equal(intervalText('ipv4_addr', 0x0a000000, 0x0affffff), '10.0.0.0/8')
  t.equal(intervalText('ipv4_addr', 0x0a000001, 0x0a000001), '10.0.0.1')
  t.equal(intervalText('ipv4_addr', 0x0a000000, 0x0a000002), '10.0.0.0-10.0.0.2')
  t.equal(intervalText('ipv4_addr', 0x0a000100, 0x0a0002ff), '10.0.1.0-10.0.2.255', 'aligned size, unaligned start')
  t.equal(intervalText('inet_service', 0, 1023), '0-1023')
})

t.test('a run folds; what differs in anything else breaks it', async (t) => {
  const nets = Array.from({ length: 10 }, (_, i) => `ip saddr 10.${i}.0.0/16`)
  const run = nets.map((m, i) => rule(['ip protocol tcp', m], `r${i}`))
  const folded = foldRules('input_rules', groups(run))
  t.equal(folded.rules.length, 1)
  t.same(folded.rules[0], {
    matches: ['ip protocol tcp'],
    stmts: ['counter name ip saddr map @input_rules/f1', 'drop'],
    comment: 'fold input_rules/f1',
  })
  t.same(
    folded.maps[0]?.elements,
    nets.map((m, i) => [m.slice(9), `r${i}`]),
  )
  t.same(
    folded.records[0]?.rules,
    run.map((r) => ({ matches: [], counter: r.counter, stmts: ['continue'], comment: r.comment })),
    'the records in order',
  )

  const mixed = [...run.slice(0, 5), rule(['ip protocol tcp', 'ip saddr 11.0.0.1'], 'x', ['accept']), ...run.slice(5)]
  t.equal(foldRules('c', groups(mixed)).maps.length, 0, 'another verdict in the middle: two runs of 5, too short')
  const long = [...run, rule(['ip protocol tcp', 'ip saddr 11.0.0.1'], 'x', ['accept']), ...run.map((r) => ({ ...r, counter: `${r.counter}b` }))]
  const two = foldRules('c', groups(long))
  t.same(
    two.rules.map((r) => r.comment),
    ['fold c/f1', 'rec x', 'fold c/f2'],
    'two runs around the other verdict',
  )
  const helper = [run[0] as NftRule, { matches: run[0]?.matches ?? [], stmts: ['jump mark_add_00000001'] }]
  t.equal(foldRules('c', [helper, ...groups(run.slice(1, 8))]).maps.length, 0, 'a rule of several nft rules does not join')
  t.equal(foldRules('c', groups(run.slice(0, FOLD_MIN - 1))).maps.length, 0, `fewer than ${FOLD_MIN} stay linear`)
  const ports = Array.from({ length: 9 }, (_, i) => rule(['tcp dport ' + (i * 10 + 1) + '-' + (i * 10 + 5)], `p${i}`, ['accept']))
  t.same(foldRules('c', groups(ports)).maps[0]?.key, 'inet_service')
})

t.test('overlapping keys: the first rule holding a key gets it', async (t) => {
  const nets = ['10.0.0.0/8', '10.1.0.0/16', '11.0.0.1', '10.0.0.0/7', '12.0.0.0/24', '12.0.0.0/8', '9.0.0.0/8', '10.2.3.4']
  const folded = foldRules('c', groups(nets.map((n, i) => rule([`ip daddr ${n}`], `r${i + 1}`, ['reject with icmp type host-unreachable']))))
  t.same(folded.maps[0]?.elements, [
    ['9.0.0.0/8', 'r7'],
    ['10.0.0.0/8', 'r1'],
    ['11.0.0.0', 'r4'],
    ['11.0.0.1', 'r3'],
    ['11.0.0.2-11.255.255.255', 'r4'],
    ['12.0.0.0/24', 'r5'],
    ['12.0.1.0-12.255.255.255', 'r6'],
  ])
  t.equal(folded.records[0]?.rules.length, 8, 'shadowed rules keep their records (and count nothing, as linearly)')
})

t.test('count-only runs fold only disjoint keys', async (t) => {
  const nets = ['10.0.0.0/16', '10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16', '10.6.0.0/16', '10.7.0.0/16']
  const overlapping = [...nets, '10.0.0.0/8', ...nets.map((n) => n.replace('10.', '11.'))]
  const folded = foldRules('acct', groups(overlapping.map((n, i) => rule([`ip saddr ${n}`], `r${i}`, []))))
  t.same(
    folded.maps.map((m) => m.elements.length),
    [8, 9],
    'the /8 that overlaps the run before it starts a run of its own',
  )
  const alone = foldRules('acct', groups([...nets, '10.0.0.0/8'].map((n, i) => rule([`ip saddr ${n}`], `r${i}`, []))))
  t.same(
    alone.rules.map((r) => r.comment),
    ['fold acct/f1', 'rec r8'],
  )
})

// A small random model: terminal runs over keys 0..255 of an address's last octet.
const mulberry32 = (seed: number) => (): number => {
  seed = (seed + 0x6d2b79f5) | 0
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296
}

/** An element's key as an interval: a value, a prefix or a range. */
const elementInterval = (key: string): { lo: number; hi: number } => {
  const [lo, hi] = key.includes('-') ? key.split('-').map((a) => dottedToAddr(a) as number) : []
  return lo !== undefined && hi !== undefined ? { lo, hi } : (keyOf(`ip saddr ${key}`) as { lo: number; hi: number })
}

t.test('random overlapping runs: the map decides every key as the linear walk does', async (t) => {
  const r = mulberry32(13)
  const base = dottedToAddr('10.9.8.0') as number
  for (let round = 0; round < 200; round++) {
    const n = FOLD_MIN + Math.floor(r() * 20)
    const keys = Array.from({ length: n }, () => {
      const bits = 24 + Math.floor(r() * 9)
      const size = 2 ** (32 - bits)
      const lo = base + Math.floor((r() * 256) / size) * size
      return { lo, hi: lo + size - 1, text: bits === 32 ? addrToDotted(lo) : `${addrToDotted(lo)}/${bits}` }
    })
    const rules = keys.map((k, i) => rule([`ip saddr ${k.text}`], `r${i}`))
    const map = foldRules('c', groups(rules)).maps[0]
    const owner = new Map<number, string>()
    for (const [key, counter] of map?.elements ?? []) {
      const k = elementInterval(key)
      for (let a = k.lo; a <= k.hi; a++) {
        if (owner.has(a)) t.fail(`round ${round}: ${addrToDotted(a)} in two elements`)
        owner.set(a, counter)
      }
    }
    let wrong = 0
    for (let a = base; a < base + 256; a++) {
      const first = keys.findIndex((k) => k.lo <= a && a <= k.hi)
      if ((first < 0 ? undefined : `r${first}`) !== owner.get(a)) wrong++
    }
    if (wrong) t.fail(`round ${round}: ${wrong} addresses decided otherwise`, { keys: keys.map((k) => k.text) })
  }
  t.pass('200 random runs')
})
