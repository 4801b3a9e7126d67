// The helper modules' model (translate/alg): module names of every era,
// parameters and their defaults, records, and the owned table rendered
// from them (fixtures/alg/<case>.nft, TAP_SNAPSHOT=1 rewrites; each loads
// with nft -c).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type LoadedApp, decodeApp, encodeApp, helperApp, isParameterError, loadApp } from '../src/translate/alg/model.ts'
import { badParameter } from '../src/translate/alg/messages.ts'
import { renderAlg } from '../src/translate/alg/apps.ts'
import { tableText } from '../src/translate/nft/text.ts'
import { replaceTableText } from '../src/translate/nft/transaction.ts'
import { requireRootAndNft } from './helpers/netns.ts'

const FIXTURES = new URL('../fixtures/alg/', import.meta.url).pathname
const load = (module: string, ...params: string[]): LoadedApp => {
  const r = loadApp(module, params)
  if (isParameterError(r)) throw new Error(`${module}: ${r.kind} ${r.parameter}`)
  return r
}

t.test('module names of 2.0/2.2, 2.4 and 2.6', async (t) => {
  for (const [app, names] of Object.entries({
    ftp: ['ip_masq_ftp', 'ip_conntrack_ftp', 'ip_nat_ftp', 'nf_conntrack_ftp', 'nf_nat_ftp'],
    irc: ['ip_masq_irc', 'ip_conntrack_irc', 'ip_nat_irc', 'nf_conntrack_irc', 'nf_nat_irc'],
    sip: ['ip_masq_sip', 'ip_conntrack_sip', 'ip_nat_sip', 'nf_conntrack_sip', 'nf_nat_sip'],
    cuseeme: ['ip_masq_cuseeme'],
    vdolive: ['ip_masq_vdolive'],
    quake: ['ip_masq_quake'],
    raudio: ['ip_masq_raudio'],
  }))
    for (const name of names) t.equal(helperApp(name), app, name)
  for (const name of ['ip_masq_autofw', 'ip_conntrack', 'ipchains', 'nf_conntrack_tftp']) t.equal(helperApp(name), undefined, name)
})

t.test('defaults and parameters (spec: alg-modules.md)', async (t) => {
  t.same(load('ip_masq_ftp').ports, [21])
  t.same(load('ip_masq_irc').ports, [6667])
  t.same(load('ip_masq_raudio').ports, [554, 7070])
  t.same(load('ip_masq_quake').ports, [26000, 27000])
  t.same(load('ip_masq_cuseeme').ports, [7648])
  t.same(load('ip_masq_vdolive').ports, [7000])
  t.same(load('nf_conntrack_sip').ports, [5060])
  t.same(load('nf_nat_ftp').ports, [], 'a 2.6 NAT half binds nothing of its own')
  const ftp = load('ip_masq_ftp', 'ports=21,2121', 'in_ports=0x849', 'mark=3', 'in_mark=4', 'noport=6000')
  t.same([ftp.ports, ftp.inPorts, ftp.mark, ftp.inMark, ftp.kept], [[21, 2121], [2121], 3, 4, ['noport=6000']])
  t.same(load('ip_masq_ftp', 'ports=2121').ports, [2121], 'ports= replaces the default, as the 2.2 array did')
  t.same(load('ip_masq_ftp', 'ports=21,0,2121').ports, [21, 2121], 'a 0 leaves the slot unused')
  t.same(load('ip_masq_irc', 'insecure=1').kept, ['insecure=1'])
  t.same(loadApp('ip_masq_irc', ['mark=1']), { kind: 'unknown', parameter: 'mark' })
  for (const value of [' 1', 'a"b', 'x'.repeat(33), '1\n'])
    t.same(loadApp('ip_masq_ftp', [`noport=${value}`]), { kind: 'syntax', parameter: 'noport' }, JSON.stringify(value))
  t.same(loadApp('ip_masq_ftp', ['ports=21,x']), { kind: 'syntax', parameter: 'ports' })
  t.same(loadApp('ip_masq_ftp', [`ports=${Array.from({ length: 13 }, (_, i) => i + 1).join(',')}`]), {
    kind: 'too-many',
    parameter: 'ports',
    max: 12,
  })
  const many = Array.from({ length: 12 }, (_, i) => 60000 + i).join(',')
  t.same(loadApp('ip_masq_ftp', [`ports=${many}`, `in_ports=${many}`]), { kind: 'too-long', parameter: `ports=${many} in_ports=${many}` })
  t.same(loadApp('ip_conntrack_ftp', [`ports=${Array.from({ length: 9 }, (_, i) => i + 1).join(',')}`]), {
    kind: 'too-many',
    parameter: 'ports',
    max: 8,
  })
})

t.test('the tools refusing a parameter', async (t) => {
  t.equal(
    badParameter('modprobe', 'ip_masq_ftp', { kind: 'unknown', parameter: 'foo' }),
    '/lib/modules/2.2.26/ipv4/ip_masq_ftp.o: invalid parameter parm_foo\n' +
      '/lib/modules/2.2.26/ipv4/ip_masq_ftp.o: insmod /lib/modules/2.2.26/ipv4/ip_masq_ftp.o failed\n' +
      '/lib/modules/2.2.26/ipv4/ip_masq_ftp.o: insmod ip_masq_ftp failed\n',
  )
  t.equal(
    badParameter('insmod', 'ip_masq_ftp', { kind: 'too-many', parameter: 'ports', max: 12 }),
    '/lib/modules/2.2.26/ipv4/ip_masq_ftp.o: too many values for ports (max 12)\n',
  )
})

t.test('records round-trip', async (t) => {
  for (const a of [
    load('ip_masq_ftp', 'ports=21,2121', 'in_ports=2121', 'mark=7', 'noport=6000'),
    load('nf_nat_sip'),
    load('ip_masq_irc', 'insecure=1'),
  ])
    t.same(decodeApp(encodeApp(a)), a, encodeApp(a))
  t.equal(encodeApp(load('ip_masq_ftp', 'ports=21,2121')), 'ftp ip_masq_ftp ports=21,2121')
  for (const bad of ['ftp ip_masq_irc ports=6667', 'ftp ip_masq_ftp ports=70000', 'ftp ip_masq_ftp insecure=1', 'ftp'])
    t.equal(decodeApp(bad), undefined, bad)
})

const CASES: Record<string, LoadedApp[]> = {
  empty: [],
  'ftp-ports': [load('ip_masq_ftp', 'ports=21,2121')],
  'ftp-inports': [load('ip_masq_ftp', 'in_ports=2121')],
  'ftp-marks': [load('ip_masq_ftp', 'mark=1', 'in_mark=2')],
  irc: [load('ip_masq_irc')],
  sip: [load('ip_masq_sip')],
  'ftp-2.4': [load('ip_conntrack_ftp', 'ports=21,2121'), load('ip_nat_ftp', 'ports=21,2121')],
  cuseeme: [load('ip_masq_cuseeme')],
  vdolive: [load('ip_masq_vdolive')],
  quake: [load('ip_masq_quake')],
  raudio: [load('ip_masq_raudio')],
  every: ['ip_masq_ftp', 'ip_masq_irc', 'ip_masq_sip', 'ip_masq_cuseeme', 'ip_masq_vdolive', 'ip_masq_quake', 'ip_masq_raudio'].map((m) => load(m)),
  'nf-2.6': [load('nf_conntrack_ftp'), load('nf_nat_ftp'), load('nf_conntrack_irc'), load('nf_conntrack_sip', 'sip_direct_media=0')],
}

const missing = requireRootAndNft()
for (const [name, apps] of Object.entries(CASES))
  t.test(`rendered table: ${name}`, async (t) => {
    const table = renderAlg(apps)
    const text = tableText(table)
    const path = join(FIXTURES, `${name}.nft`)
    if (process.env['TAP_SNAPSHOT'] === '1' || !existsSync(path)) writeFileSync(path, text)
    t.equal(text, readFileSync(path, 'utf8'), `fixtures/alg/${name}.nft`)
    if (missing) return t.fail(missing)
    for (const [what, input] of [
      ['the table', text],
      ['the transaction creating it', replaceTableText(undefined, table)],
    ] as const) {
      const check = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input, encoding: 'utf8' })
      t.equal(check.stderr, '', `${what} loads with nft -c`)
    }
  })

t.test('seeded random parameters: an error or an app whose record reads back the same', async (t) => {
  let seed = 20261202
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
  const pick = <T>(list: readonly T[]): T => list[next(list.length)] as T
  const modules = ['ip_masq_ftp', 'ip_masq_irc', 'ip_masq_sip', 'ip_masq_quake', 'ip_conntrack_ftp', 'nf_conntrack_sip', 'nf_nat_irc']
  const names = ['ports', 'in_ports', 'mark', 'in_mark', 'noport', 'insecure', 'loose', 'sip_timeout', 'x', '']
  const values = ['21', '0x15', '021', '-1', '70000', '1,2,3', ',', '', 'a', '4294967295', '21,,22', ' 21', '1e3', '"', 'a b', '\t']
  let apps = 0
  for (let i = 0; i < 2000; i++) {
    const module = pick(modules)
    const params = Array.from(
      { length: next(4) },
      () => `${pick(names)}=${Array.from({ length: 1 + next(3) }, () => pick(values)).join(pick([',', '']))}`,
    )
    const r = loadApp(module, params)
    if (isParameterError(r)) continue
    apps++
    const record = encodeApp(r)
    if (!t.same(decodeApp(record), r, record)) break
  }
  t.ok(apps > 100, `${apps} of 2000 loaded`)
})
