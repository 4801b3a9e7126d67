// legacyfw translate: a script run in a sandbox becomes an nft file whose
// rules name their script lines; loaded with plain `nft -f` into a fresh
// namespace, ipchains (ipfwadm, ipmasqadm, ...) lists it exactly as after
// the same script run live, and the kernel holds the same tables.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteNetns, inNetns, newNetns, requireRootAndNft, withoutTapLoader } from './helpers/netns.ts'
import { corpusPath } from './helpers/corpus-dir.mjs'
import { runScript } from '../src/script/sandbox.ts'
import { LEGACY_COMMANDS, commandTable } from '../src/tools/registry.ts'

const ROOT = new URL('..', import.meta.url).pathname
const LEGACYFW = join(ROOT, 'bin/legacyfw')
const IPCHAINS = join(ROOT, 'bin/ipchains')
const IPCHAINS_SAVE = join(ROOT, 'bin/ipchains-save')
const IPFWADM = join(ROOT, 'bin/ipfwadm')
const IPMASQADM = join(ROOT, 'bin/ipmasqadm')
const EXAMPLE = join(ROOT, 'examples/rc.firewall-2.2-strong.sh')
const SAVED = corpusPath('ipchains-save', 'diald-howto-orig.chains')

const tmp = mkdtempSync(join(tmpdir(), 'lfw-translate-test-'))
const script = (name: string, text: string): string => {
  const path = join(tmp, name)
  writeFileSync(path, text)
  return path
}

const translate = (args: string[], asUser = false) =>
  spawnSync(
    asUser ? 'setpriv' : 'env',
    [...(asUser ? ['--reuid=nobody', '--regid=nogroup', '--clear-groups'] : []), ...withoutTapLoader([LEGACYFW, 'translate', ...args])],
    {
      encoding: 'utf8',
      cwd: ROOT,
    },
  )

/** What the legacy tools show of a namespace's firewall. */
const listings = (ns: string): string[] =>
  [[IPCHAINS, '-L', '-n', '-v', '-x'], [IPCHAINS, '-L', '-v'], [IPCHAINS_SAVE]].map((argv) => {
    const r = inNetns(ns, argv)
    return `${r.status}\n${r.stdout}${r.stderr}`
  })

/** Loads a file with plain nft into a fresh namespace and lists it. */
const loadAndList = (file: string): { status: number | null; stderr: string; lists: string[] } => {
  const ns = newNetns('translate')
  try {
    const load = inNetns(ns, ['nft', '-f', '-'], file)
    return { status: load.status, stderr: load.stderr, lists: listings(ns) }
  } finally {
    deleteNetns(ns)
  }
}

/** Runs a script live (bin/ipchains against the kernel) in a fresh namespace and lists the result. */
const liveLists = async (path: string): Promise<string[]> => {
  const ns = newNetns('live')
  try {
    const run = await runScript(ns, path)
    if (!run.started) throw new Error(`live run did not start: ${run.stderr}`)
    return listings(ns)
  } finally {
    deleteNetns(ns)
  }
}

/** What ipfwadm, ipmasqadm and legacyfw proc show of a namespace, and its 2.0/2.2 tables as nft lists them (generation sets aside). */
const masqListings = (ns: string): string[] => {
  const tools = [
    ...['-A', '-I', '-O', '-F'].map((c) => [IPFWADM, c, '-l', '-n', '-e', '-x']),
    [IPMASQADM, 'portfw', '-l', '-n'],
    [IPMASQADM, 'mfw', '-L', '-n'],
    [LEGACYFW, 'proc', 'ip_autofw'],
    [LEGACYFW, 'proc', 'ip_masq/autofw'],
  ].map((argv) => {
    const r = inNetns(ns, argv)
    return `${argv.slice(1).join(' ')}: ${r.status}\n${r.stdout}${r.stderr}`
  })
  const tables = ['legacyfw_ipfwadm', 'legacyfw_ipautofw', 'legacyfw_ipmasqadm'].map((name) => {
    const r = inNetns(ns, ['nft', 'list', 'table', 'ip', name])
    if (r.status !== 0) return r.stderr
    // Blocks in an order that does not depend on when each was made; counter
    // names and autofw ids neither; the generation set's elements expire. (A table comment
    // does not survive the tools' create-then-add, so it is left aside.)
    const body = r.stdout.slice(r.stdout.indexOf('{\n') + 2, r.stdout.lastIndexOf('\n}'))
    return (
      body
        .replace(/counter name "[^"]+"/g, 'counter name "C"')
        // autofw entry ids come from the table's generation, which a loaded file restarts.
        .replace(/"autofw \d+ /g, '"autofw ID ')
        .replace(/autofw_\d+_/g, 'autofw_ID_')
        .split('\n\n')
        .map((b) => b.replace(/^\tcomment "[^"]*"\n/, ''))
        .filter((b) => !/^\t(set generation|counter) /.test(b))
        .sort()
        .join('\n\n')
    )
  })
  return [...tools, ...tables]
}

const IFACE = { name: 'eth0', cidr: '10.64.0.1/24' }

/** A namespace with the interface the 2.0/2.2 script expects (one end of a veth pair, as in the sandbox). */
const nsWithIface = (prefix: string): string => {
  const ns = newNetns(prefix)
  inNetns(ns, ['ip', 'link', 'add', IFACE.name, 'type', 'veth', 'peer', 'name', 'lfwpeer0'])
  inNetns(ns, ['ip', 'link', 'set', 'lfwpeer0', 'up'])
  inNetns(ns, ['ip', 'addr', 'add', IFACE.cidr, 'dev', IFACE.name])
  inNetns(ns, ['ip', 'link', 'set', IFACE.name, 'up'])
  return ns
}

const MASQ_SCRIPT = `#!/bin/sh
IPFWADM=/sbin/ipfwadm
EXT=\`ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1\`
$IPFWADM -F -p deny
$IPFWADM -F -a m -S 192.168.1.0/24 -D 0.0.0.0/0 -W eth0
$IPFWADM -I -a accept -V $EXT -P tcp -S 0/0 -D $EXT/32 22 25 80
$IPFWADM -I -a reject -V $EXT -S 192.168.1.0/24 -D 0/0 -o
$IPFWADM -I -a accept -P tcp -S 0/0 -D $EXT 8080 -r 3128
$IPFWADM -O -a reject -P tcp -D 10.1.2.3 23 -o
$IPFWADM -O -i deny -S 192.168.1.0/24 -W eth0
$IPFWADM -A in -a -P tcp -S 0/0 80 -D $EXT
$IPFWADM -A out -i -P udp -D 0/0 53
$IPFWADM -A both -a -S 10.0.0.0/8
$IPFWADM -A -d -S 10.0.0.0/8
$IPFWADM -M -s 3600 60 120
$IPFWADM -I -l -n -e
$IPFWADM -F -a accept -P icmp -S 0/0 8 -b
$IPFWADM -I -d reject -V $EXT -S 192.168.1.0/24 -D 0/0 -o
$IPFWADM -F -a accept -P nosuch
ipautofw -A -r udp 6970 7170 -c tcp 7070
ipautofw -A -r udp 7648 7649 -c udp 7648 -u
ipautofw -A -r tcp 6000 6010 -h 192.168.1.9
ipmasqadm portfw -a -P tcp -L $EXT 80 -R 192.168.1.2 80 -p 2
ipmasqadm portfw -a -P tcp -L $EXT 80 -R 192.168.1.3 8080 -p 1
ipmasqadm portfw -a -P udp -L $EXT 53 -R 192.168.1.4 53
ipmasqadm portfw -d -P udp -L $EXT 53
ipmasqadm portfw -l -n
ipmasqadm mfw -I -m 1 -r 192.168.1.5 21 -p 3
ipmasqadm mfw -A -m 1 -r 192.168.1.6 21
ipmasqadm mfw -L -n
ipmasqadm autofw -A -r tcp 7000 7010 -h 192.168.1.7
ipmasqadm nosuch
`

const LINES = `ipchains -N tcpin
ipchains -A tcpin -p tcp -s 10.0.0.0/8 -j ACCEPT
jumpto() { ipchains -A input -i eth0 -j "$1"; }
jumpto tcpin
ipchains -A nosuch -j ACCEPT
ipautofw -A -r udp 7000 7010 -h 10.0.0.2
IPCHAINS=/sbin/ipchains
$IPCHAINS -P forward DENY
/usr/sbin/ipchains -A output -j REJECT
modprobe ip_masq_ftp
exit 3
`

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.teardown(() => spawnSync('rm', ['-rf', tmp]))

  t.test('the example: same listing as the live run, as root and as an ordinary user', async (t) => {
    const root = translate([EXAMPLE])
    t.equal(root.status, 0, root.stderr)
    t.match(root.stdout, /^# rc\.firewall-2\.2-strong\.sh, translated by legacyfw/)
    t.match(root.stdout, /\ntable ip legacyfw_ipchains\ndelete table ip legacyfw_ipchains\ntable ip legacyfw_ipchains \{\n/)
    t.match(
      root.stdout,
      /iifname "lan0" ip saddr 192\.168\.1\.0\/24 counter name "r1" accept comment "-s 192\.168\.1\.0\/24 -i lan0 -j ACCEPT" # script:184\n/,
    )
    t.match(root.stdout, /counter name "policy_input" reject with icmp type port-unreachable comment "policy REJECT" # script:180\n/)
    t.match(root.stdout, /\t\tcontinue comment "ftp ip_masq_ftp ports=21" # script:19\n/, 'the helper module is in effect')
    t.notMatch(root.stderr, /recorded, not run: modprobe ip_masq_ftp/)
    t.match(root.stderr, /^script:208: divergence: policy REJECT on output drops instead/m)
    t.notMatch(root.stderr, /No such file or directory/, "bash's error for the missing knob gives way to its note")
    t.match(
      root.stderr,
      /^script:75: divergence: \/proc\/sys\/net\/ipv4\/ip_always_defrag does not exist on this kernel/m,
      'a knob the kernel lacks is a divergence',
    )
    const user = translate([EXAMPLE], true)
    t.equal(user.status, 0, user.stderr)
    t.equal(user.stdout, root.stdout, 'identical nft file without root (user namespaces)')
    const loaded = loadAndList(root.stdout)
    t.equal(loaded.status, 0, `plain nft -f loads it: ${loaded.stderr}`)
    t.same(loaded.lists, await liveLists(EXAMPLE), 'ipchains -L and ipchains-save show what the live run left')
    const again = loadAndList(root.stdout + root.stdout)
    t.equal(again.status, 0, `loading it twice replaces the table: ${again.stderr}`)
    t.same(again.lists, loaded.lists)
  })

  t.test('ipfwadm, ipautofw and ipmasqadm: the same listings and tables as the live run', async (t) => {
    const path = script('masq.sh', MASQ_SCRIPT)
    const r = translate(['--no-mirror', '--iface', `${IFACE.name}=${IFACE.cidr}`, path])
    t.equal(r.status, 1, `the script's exit status (its last command fails): ${r.stderr}`)
    t.notMatch(r.stderr, /unsupported/, 'every command is served')
    t.match(r.stdout, /\ttable ip legacyfw_ipfwadm \{|\ntable ip legacyfw_ipfwadm \{\n/)
    t.match(r.stdout, /\tset via_10_64_0_1 \{\n\t\ttype ifname\n\t\telements = \{ "eth0" \}\n\t\}/, 'the -V set holds the sandbox interface')
    t.match(
      r.stdout,
      /ip daddr 10\.64\.0\.1 iifname @via_10_64_0_1 tcp dport \{ 22, 25, 80 \} counter name "r\d+" accept comment "[^"]*" # script:6\n/,
    )
    t.match(r.stdout, /counter name "r\d+" drop comment "deny -S 192\.168\.1\.0\/24 -W eth0" # script:10\n/)
    t.match(r.stdout, /\tcounter r1 \{ \}\n\tcounter r2 \{ \}\n/, 'counters renumbered')
    t.notMatch(r.stdout, /"a[0-9a-z]+x[0-9a-z]+"/, 'no counter keeps the name of a read-free append')
    t.match(r.stdout, /\ntable ip legacyfw_ipautofw \{\n[^]*\tset generation \{/, 'an entry table carries its generation set')
    t.match(r.stdout, /continue comment "autofw \d+ [^"]*" # script:20\n/)
    t.match(r.stdout, /continue comment "portfw 6 [^"]*" # script:23\n/)
    t.match(r.stdout, /continue comment "mfw 1 [^"]*" # script:28\n/)
    t.notMatch(r.stdout, /portfw 17 /, 'the deleted portfw entry is gone')
    t.match(
      r.stderr,
      /^script:6: divergence: -V 10\.64\.0\.1 matches the set via_10_64_0_1, filled with the translating sandbox's interfaces; after nft -f of this file the first ipfwadm command, or its via watcher, brings it up to date for this host/m,
    )
    t.match(r.stderr, /^script:9: divergence: reject in the output list drops instead/m)
    t.match(
      r.stderr,
      /^script:9: divergence: -o lines are printed by legacyfw runtime: legacyfw-runtime.service must run where the file is loaded/m,
    )
    t.match(r.stderr, /^script:5: divergence: masquerading is decided on a connection's first packet/m)
    t.match(r.stderr, /^script:19: error: \/sbin\/ipfwadm -F -a accept -P nosuch exited 2: /m)
    t.match(r.stderr, /^script:20,21: divergence: autofw learns the host that used the control port per external address/m)
    t.match(r.stderr, /^script:32: error: ipmasqadm nosuch exited 1: dlopen\(\)/m)
    const ns = nsWithIface('translated')
    const liveNs = nsWithIface('live')
    try {
      const load = inNetns(ns, ['nft', '-f', '-'], r.stdout)
      t.equal(load.status, 0, `plain nft -f loads it: ${load.stderr}`)
      const live = await runScript(liveNs, path)
      t.ok(live.started, live.stderr)
      t.equal(live.status, 1)
      const translated = masqListings(ns)
      const expected = masqListings(liveNs)
      t.same(translated, expected, 'ipfwadm -l, ipmasqadm portfw -l / mfw -L, legacyfw proc and the kernel tables as after the live run')
      t.match(expected.join('\n'), /TCP  10\.64\.0\.1 +192\.168\.1\.3 +80 +8080/, 'the live run made the portfw entries')
      // The tools take it from there: the next commands commit on top of the loaded tables.
      for (const argv of [
        [IPFWADM, '-I', '-a', 'deny', '-S', '10.9.9.9'],
        [IPMASQADM, 'portfw', '-f'],
        [IPMASQADM, 'autofw', '-A', '-r', 'udp', '7100', '7110', '-h', '192.168.1.8'],
        [join(ROOT, 'bin/ipautofw'), '-F'],
      ]) {
        const a = inNetns(ns, argv)
        const b = inNetns(liveNs, argv)
        t.equal(a.status, 0, `${argv.slice(1).join(' ')} on the loaded table: ${a.stderr}`)
        t.equal(`${a.stdout}${a.stderr}`, `${b.stdout}${b.stderr}`)
      }
      t.same(masqListings(ns), masqListings(liveNs), 'still the same after further commands')
    } finally {
      deleteNetns(ns)
      deleteNetns(liveNs)
    }
  })

  t.test('script lines, errors, unsupported commands and recorded tools', async (t) => {
    const path = script('lines.sh', LINES)
    const r = translate(['--no-mirror', path])
    t.equal(r.status, 3, "the script's exit status")
    t.match(r.stdout, /\tchain u_tcpin \{ # script:1\n/)
    t.match(r.stdout, /counter name "policy_input" accept comment "policy ACCEPT"\n/, 'what every table starts with has no line')
    t.match(r.stdout, /\tchain input \{\n/)
    t.match(r.stdout, /ip saddr 10\.0\.0\.0\/8 ip protocol tcp counter name "r\d+" accept comment "[^"]*" # script:2\n/)
    t.match(
      r.stdout,
      /iifname "eth0" counter name "r\d+" jump u_tcpin comment "[^"]*" # script:3\n/,
      'a call inside a function: the line of the call',
    )
    t.match(r.stdout, /counter name "policy_forward" drop comment "policy DENY" # script:8\n/, 'through $IPCHAINS')
    t.match(r.stdout, /counter name "r\d+" drop comment "-j REJECT" # script:9\n/, 'an absolute path')
    t.match(r.stderr, /^script:5: error: ipchains -A nosuch -j ACCEPT exited 1: ipchains: No target by that name$/m)
    if (commandTable('ipautofw')) t.notMatch(r.stderr, /unsupported/, 'ipautofw is served')
    else t.match(r.stderr, /^script:6: unsupported: ipautofw -A -r udp 7000 7010 -h 10\.0\.0\.2 \(not run: no legacyfw ipautofw yet\)$/m)
    t.match(r.stderr, /^script:9: divergence: REJECT reached from output drops instead/m)
    t.match(r.stdout, /\t\tcontinue comment "ftp ip_masq_ftp ports=21" # script:10\n/, 'a helper module is loaded into the helper table')
    t.match(r.stderr, /^ipchains: No target by that name\n/m, "the command's own message reaches the script's stderr")
    const lines = r.stderr
      .split('\n')
      .filter((l) => /^script:\d+:/.test(l))
      .map((l) => Number(/^script:(\d+)/.exec(l)?.[1]))
    t.same(
      lines,
      [...lines].sort((a, b) => a - b),
      'the report is in script order',
    )
  })

  t.test('interfaces: the host mirror by default, --iface overrides, --no-mirror', async (t) => {
    const path = script(
      'iface.sh',
      `EXTIP=$(ip -4 -o addr show ppp0 | awk '{print $4}' | cut -d/ -f1)
ipchains -A input -i ppp0 -d "$EXTIP" -j ACCEPT
ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 >&2
`,
    )
    const r = translate(['--iface', 'ppp0=198.51.100.7/32', path])
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /iifname "ppp0" ip daddr 198\.51\.100\.7 counter name "r1" accept/)
    const host = JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as { ifname: string }[]
    for (const { ifname } of host) t.match(r.stderr, new RegExp(`^${ifname}$`, 'm'), `the sandbox has the host's ${ifname}`)
    const hostAddr = JSON.parse(spawnSync('ip', ['-j', '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout) as {
      ifname: string
      addr_info: { local: string }[]
    }[]
    const shown = script('addrs.sh', 'ip -4 -o addr show >&2\n')
    const addrs = translate([shown])
    for (const { ifname, addr_info } of hostAddr)
      for (const a of addr_info) t.match(addrs.stderr, new RegExp(`${ifname} +inet ${a.local.replaceAll('.', '\\.')}/`), `${ifname} has ${a.local}`)
    const bare = translate(['--no-mirror', '--iface', 'ppp0=198.51.100.7/32', path])
    t.same(
      bare.stderr
        .split('\n')
        .filter((l) => /^\w/.test(l) && !l.startsWith('script:'))
        .sort(),
      ['lfwpeer0', 'lo', 'ppp0'],
      'only lo and the --iface interface (with its veth peer)',
    )
    const bad = translate(['--iface', 'ppp0=nonsense', path])
    t.equal(bad.status, 2)
    t.equal(bad.stderr, 'legacyfw translate: --iface ppp0=nonsense: NAME=ADDR/LEN expected, such as eth0=192.168.1.1/24\n')
    const unknown = spawnSync('env', withoutTapLoader([LEGACYFW, 'transalte', path]), { encoding: 'utf8' })
    t.equal(unknown.status, 2)
    t.equal(unknown.stderr, 'legacyfw: unknown command "transalte" (legacyfw --help tells more)\n', 'a mistyped command is named, in one line')
  })

  t.test('--from ipchains-save', async (t) => {
    const r = translate(['--from', 'ipchains-save', SAVED])
    t.equal(r.status, 0, r.stderr)
    t.match(r.stdout, /ip daddr 192\.168\.1\.1 counter name "r1" comment "-d 192\.168\.1\.1" # script:6\n/)
    t.match(r.stdout, /ip saddr 192\.168\.1\.1 counter name "r2" comment "-s 192\.168\.1\.1" # script:7\n/)
    const loaded = loadAndList(r.stdout)
    t.equal(loaded.status, 0, loaded.stderr)
    t.match(
      loaded.lists[2],
      /^0\n:input ACCEPT\n:forward ACCEPT\n:output ACCEPT\n-A input -s 0\.0\.0\.0\/0\.0\.0\.0 -d 192\.168\.1\.1\/255\.255\.255\.255\n-A output -s 192\.168\.1\.1\/255\.255\.255\.255 -d 0\.0\.0\.0\/0\.0\.0\.0\n/,
    )
    const unknown = translate(['--from', 'iptables-save', SAVED])
    t.equal(unknown.status, 2)
    t.equal(unknown.stderr, 'legacyfw translate: --from iptables-save: unknown saved format (known: ipchains-save)\n')
  })

  t.test('--check', async (t) => {
    const path = script('check.sh', 'ipchains -A input -s 10.1.2.3 -j DENY\n')
    const first = translate(['--no-mirror', path])
    const expected = script('check.nft', first.stdout)
    const same = translate(['--no-mirror', '--check', expected, path])
    t.equal(same.status, 0, same.stderr)
    t.equal(same.stdout, first.stdout)
    writeFileSync(expected, first.stdout.replace('10.1.2.3', '10.1.2.4'))
    const differs = translate(['--no-mirror', '--check', expected, path])
    t.equal(differs.status, 1)
    t.match(differs.stderr, /the translation differs from .*check\.nft:\n/)
    t.match(differs.stderr, /^- .*ip saddr 10\.1\.2\.4 /m)
    t.match(differs.stderr, /^\+ .*ip saddr 10\.1\.2\.3 /m)
  })

  t.test('every legacy command is intercepted', async (t) => {
    t.same([...LEGACY_COMMANDS].sort(), ['ipautofw', 'ipchains', 'ipchains-restore', 'ipchains-save', 'ipfwadm', 'ipmasqadm'])
  })
}
