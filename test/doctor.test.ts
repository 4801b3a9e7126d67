// legacyfw doctor on this machine, and in a namespace whose PATH hides one
// requirement at a time (a directory linking every command of the system's
// but the hidden one): the missing line says how to get it, the exit status
// says whether it was required, and the first command that cannot work
// ends its one-line error with the pointer to legacyfw doctor.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { inNetns, requireRootAndNft, withNetns } from './helpers/netns.ts'

const ROOT = new URL('..', import.meta.url).pathname
const LEGACYFW = join(ROOT, 'bin/legacyfw')
const IPCHAINS = join(ROOT, 'bin/ipchains')
const tmp = mkdtempSync(join(tmpdir(), 'lfw-doctor-test-'))
const CHECKS = [
  'nft',
  'nf_tables',
  'conntrack',
  'conntrack list',
  'ct helpers',
  'NFLOG',
  'user namespaces',
  'syslog socket',
  'perl',
  'iptables-nft',
  'bash',
]
const REQUIRED = ['nft', 'nf_tables', 'conntrack', 'bash']

/** A directory to use as PATH: every command of the system's PATH and node's, but `hidden`. */
const pathWithout = (hidden: string): string => {
  const dir = join(tmp, `without-${hidden}`)
  mkdirSync(dir)
  for (const from of [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    let names: string[] = []
    try {
      names = readdirSync(from)
    } catch {
      continue
    }
    for (const name of names)
      if (name !== hidden)
        try {
          symlinkSync(join(from, name), join(dir, name))
        } catch {
          // an earlier directory of PATH has it
        }
  }
  return dir
}

/** doctor's lines by check name: [state, rest]. */
const parse = (stdout: string): Map<string, [string, string]> => {
  const lines = new Map<string, [string, string]>()
  for (const line of stdout.split('\n').filter(Boolean)) {
    const m = /^(present|missing|unchecked) +(.+?)  +(.*)$/.exec(line)
    if (m) lines.set(m[2] as string, [m[1] as string, m[3] as string])
    else lines.set(line, ['?', ''])
  }
  return lines
}

t.test('on this machine: every requirement present, one line each', async (t) => {
  const why = requireRootAndNft()
  t.notOk(why, why ?? 'root and nft')
  if (why) return
  await withNetns('doctor', (ns) => {
    const r = inNetns(ns, [LEGACYFW, 'doctor'])
    t.equal(r.status, 0, 'nothing required is missing')
    t.equal(r.stderr, '')
    const lines = parse(r.stdout)
    t.same([...lines.keys()], CHECKS, 'one line per check, in order')
    for (const name of REQUIRED) t.equal(lines.get(name)?.[0], 'present', `${name} present`)
    t.match(lines.get('nft')?.[1], /^nftables v\d+\.\d+\.\d+/, 'nft with its version')
    t.match(lines.get('ct helpers')?.[1], /ftp\/tcp irc\/tcp sip\/udp sip\/tcp/, 'the ct helper objects load')
    t.equal(lines.get('NFLOG')?.[0], 'present', 'NFLOG (log group) loads here')
    t.equal(lines.get('user namespaces')?.[0], 'present', 'translate can make its sandbox here')
    t.equal(lines.get('iptables-nft')?.[0], 'present', 'xt NFQUEUE loads here')
    for (const [name, [state, rest]] of lines)
      if (state === 'missing') t.match(rest, /; (required|needed) by .*; to get it: ./, `${name}: how to get it`)
    t.match(inNetns(ns, ['nft', 'list', 'ruleset']).stdout, /^$/, "the probes left nothing in the caller's namespace")
  })
})

t.test('nft hidden: doctor fails and says how to get it; the commands point to doctor', async (t) => {
  const why = requireRootAndNft()
  t.notOk(why, why ?? 'root and nft')
  if (why) return
  const PATH = pathWithout('nft')
  await withNetns('doctor-nonft', (ns) => {
    const doctor = inNetns(ns, ['env', `PATH=${PATH}`, LEGACYFW, 'doctor'])
    t.equal(doctor.status, 1, 'a required requirement is missing')
    const lines = parse(doctor.stdout)
    t.same([...lines.keys()], CHECKS)
    t.equal(lines.get('nft')?.[0], 'missing')
    t.equal(lines.get('nft')?.[1], 'not on PATH; required by every command; to get it: apt-get install nftables')
    for (const name of ['nf_tables', 'conntrack', 'ct helpers', 'NFLOG']) t.same(lines.get(name), ['unchecked', 'needs nft'], `${name}: needs nft`)
    t.equal(lines.get('bash')?.[0], 'present')

    const cases: [string[], string][] = [
      [[IPCHAINS, '-A', 'input', '-j', 'ACCEPT'], 'ipchains: Incompatible with this kernel (nft not found; legacyfw doctor tells more)\n'],
      [
        [join(ROOT, 'bin/ipfwadm'), '-I', '-a', 'accept'],
        'ipfwadm: socket creation failed: Protocol not available (nft not found; legacyfw doctor tells more)\n',
      ],
      [
        [join(ROOT, 'bin/ipmasqadm'), 'portfw', '-f'],
        'portfw: socket creation failed: Protocol not supported (nft not found; legacyfw doctor tells more)\n',
      ],
      [[LEGACYFW, 'proc', 'ip_masq/portfw'], 'legacyfw proc: /proc/net/ip_masq/portfw: nft not found (legacyfw doctor tells more)\n'],
    ]
    for (const [argv, stderr] of cases) {
      const r = inNetns(ns, ['env', `PATH=${PATH}`, ...argv])
      t.same([r.stdout, r.stderr, r.status], ['', stderr, 1], argv.slice(1).join(' '))
    }
    const script = join(tmp, 'rc.firewall')
    writeFileSync(script, 'ipchains -P forward DENY\n')
    const run = inNetns(ns, ['env', `PATH=${PATH}`, LEGACYFW, 'run', script])
    t.same([run.stderr, run.status], ['legacyfw run: nft not found (legacyfw doctor tells more)\n', 1], 'legacyfw run')
  })
})

t.test('bash hidden: doctor fails; legacyfw run points to doctor', async (t) => {
  const why = requireRootAndNft()
  t.notOk(why, why ?? 'root and nft')
  if (why) return
  const PATH = pathWithout('bash')
  await withNetns('doctor-nobash', (ns) => {
    const doctor = inNetns(ns, ['env', `PATH=${PATH}`, LEGACYFW, 'doctor'])
    t.equal(doctor.status, 1)
    t.equal(
      parse(doctor.stdout).get('bash')?.[1],
      'not on PATH; required by legacyfw run and translate, legacyfw-boot.service; to get it: apt-get install bash',
    )
    const script = join(tmp, 'rc.firewall')
    writeFileSync(script, 'ipchains -P forward DENY\n')
    const run = inNetns(ns, ['env', `PATH=${PATH}`, LEGACYFW, 'run', script])
    t.same([run.stderr, run.status], ['legacyfw run: bash not found (legacyfw doctor tells more)\n', 1])
    t.equal(inNetns(ns, ['nft', 'list', 'ruleset']).stdout, '', 'nothing applied')
  })
})

t.test('iptables-nft hidden: missing but not required, so doctor succeeds', async (t) => {
  const why = requireRootAndNft()
  t.notOk(why, why ?? 'root and nft')
  if (why) return
  const PATH = pathWithout('iptables-nft')
  await withNetns('doctor-noipt', (ns) => {
    const doctor = inNetns(ns, ['env', `PATH=${PATH}`, LEGACYFW, 'doctor'])
    t.equal(doctor.status, 0)
    t.match(parse(doctor.stdout).get('iptables-nft')?.[1], /^not on PATH; needed by RealAudio PNA .*; to get it: apt-get install iptables/)
  })
})

t.test('a bad command line', async (t) => {
  const bad = spawnSync(LEGACYFW, ['doctor', 'now'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  t.same([bad.stdout, bad.stderr, bad.status], ['', 'legacyfw doctor: unexpected now (legacyfw --help tells more)\n', 2])
})

t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
