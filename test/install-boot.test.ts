// legacyfw-boot.service booted by hand: the ExecStart line of the installed
// unit, its variables expanded from the unit's EnvironmentFile as systemd
// does, run in a fresh network namespace (no systemd needed). The admin's
// rc.firewall, calling /sbin/ipchains and /sbin/modprobe as on a 2.2 box,
// leaves its rules in the kernel, listed by the installed /sbin/ipchains
// and carrying real traffic's verdicts.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inNetns, requireRootAndNft, withNetns, withoutTapLoader } from './helpers/netns.ts'

const ROOT = new URL('..', import.meta.url).pathname
const tmp = mkdtempSync(join(tmpdir(), 'lfw-boot-test-'))
const root = join(tmp, 'root')

const RC_FIREWALL = `#!/bin/sh
# rc.firewall of a 2.2 gateway, as the admin kept it
IPCHAINS=/sbin/ipchains
/sbin/modprobe ip_masq_ftp
$IPCHAINS -F
$IPCHAINS -P input ACCEPT
$IPCHAINS -P forward DENY
$IPCHAINS -A input -p icmp -s 127.0.0.2 -j DENY
$IPCHAINS -A input -i lo -j ACCEPT
$IPCHAINS -A forward -s 192.168.1.0/24 -j MASQ
echo "rc.firewall: $1 done"
`

/** The unit's setting `key`. */
const setting = (unit: string, key: string): string => {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(unit)
  if (!m) throw new Error(`no ${key}= in the unit`)
  return m[1] as string
}

/** KEY=VALUE lines of an EnvironmentFile (no quoting used in ours). */
const environmentFile = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )

/** systemd's ExecStart expansion: ${VAR} is one word, $VAR splits at whitespace. */
const expand = (line: string, env: Record<string, string>): string[] =>
  line.split(/\s+/).flatMap((word) => {
    const one = /^\$\{(\w+)\}$/.exec(word)
    if (one) return [env[one[1] as string] ?? '']
    const split = /^\$(\w+)$/.exec(word)
    if (split) return (env[split[1] as string] ?? '').split(/\s+/).filter(Boolean)
    return [word]
  })

t.test("the boot unit's command line, by hand in a namespace, puts the script's rules in place", async (t) => {
  const why = requireRootAndNft()
  t.notOk(why, why ?? 'root and nft')
  if (why) return
  const installArgv = withoutTapLoader([join(ROOT, 'bin/legacyfw'), 'install', '--root', root])
  const installed = spawnSync(installArgv[0] as string, installArgv.slice(1), { encoding: 'utf8' })
  t.equal(installed.status, 0, installed.stderr)

  // The admin's part: the script, and /etc/default/legacyfw naming it.
  mkdirSync(join(root, 'etc/rc.d'), { recursive: true })
  const script = join(root, 'etc/rc.d/rc.firewall')
  writeFileSync(script, RC_FIREWALL)
  chmodSync(script, 0o755)
  const config = join(root, 'etc/default/legacyfw')
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^LEGACYFW_SCRIPT=.*$/m, `LEGACYFW_SCRIPT=${script}`))

  const unit = readFileSync(join(root, 'usr/lib/systemd/system/legacyfw-boot.service'), 'utf8')
  const env = environmentFile(readFileSync(join(root, setting(unit, 'EnvironmentFile')), 'utf8'))
  const argv = expand(setting(unit, 'ExecStart'), env)
  t.same(argv, ['/usr/sbin/legacyfw', 'run', script, 'start'], 'ExecStart expands to legacyfw run SCRIPT ARGS')
  // The one liberty: /usr/sbin/legacyfw is the one installed below the root.
  const inRoot = (path: string) => join(root, path)

  await withNetns('boot', (ns) => {
    // As at boot: systemd's environment, no PATH entry of ours.
    const booted = inNetns(ns, [
      'env',
      '-i',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      inRoot(argv[0] as string),
      ...argv.slice(1),
    ])
    t.equal(booted.status, 0, `the unit's command: ${booted.stderr}`)
    t.equal(booted.stdout, 'rc.firewall: start done\n', "the script ran with the unit's arguments")
    t.equal(booted.stderr, '', 'modprobe ip_masq_ftp and every ipchains call succeeded')

    const listed = inNetns(ns, [inRoot('sbin/ipchains'), '-L', '-n'])
    t.equal(
      listed.stdout,
      `Chain input (policy ACCEPT):
target     prot opt     source                destination           ports
DENY       icmp ------  127.0.0.2            0.0.0.0/0             * ->   *
ACCEPT     all  ------  0.0.0.0/0            0.0.0.0/0             n/a
Chain forward (policy DENY):
target     prot opt     source                destination           ports
MASQ       all  ------  192.168.1.0/24       0.0.0.0/0             n/a
Chain output (policy ACCEPT):
`,
      'the installed /sbin/ipchains lists the rules in place',
    )
    t.match(inNetns(ns, ['nft', 'list', 'table', 'ip', 'legacyfw_ipchains']).stdout, /table ip legacyfw_ipchains/, 'in the kernel')
    // Real packets: the input rule drops pings from 127.0.0.2, lo's others pass.
    t.equal(inNetns(ns, ['ping', '-c', '1', '-W', '1', '127.0.0.1']).status, 0, 'ping 127.0.0.1 passes')
    t.not(inNetns(ns, ['ping', '-c', '1', '-W', '1', '-I', '127.0.0.2', '127.0.0.1']).status, 0, 'ping from 127.0.0.2 is denied')
  })
})

t.test('a plain modprobe of a helper module reaches legacyfw through the installed modprobe.d file', async (t) => {
  const why = requireRootAndNft()
  t.notOk(why, why ?? 'root and nft')
  if (why) return
  t.equal(spawnSync('modprobe', ['--version']).status, 0, 'modprobe (kmod) is installed')
  // The file as installed, its /usr/sbin/legacyfw being the one below the root.
  const conf = join(tmp, 'legacyfw.conf')
  writeFileSync(
    conf,
    readFileSync(join(root, 'etc/modprobe.d/legacyfw.conf'), 'utf8').replaceAll('/usr/sbin/legacyfw', join(root, 'usr/sbin/legacyfw')),
  )
  await withNetns('modprobe', (ns) => {
    const load = inNetns(ns, ['modprobe', '-C', conf, 'ip_masq_ftp', 'ports=21,2121'])
    t.same([load.stdout, load.stderr, load.status], ['', '', 0], 'modprobe ip_masq_ftp ports=21,2121')
    const app = inNetns(ns, [join(root, 'usr/sbin/legacyfw'), 'proc', 'ip_masq/app']).stdout
    t.match(app, /^TCP  21 +0 +ftp/m, 'the ftp helper on 21')
    t.match(app, /^TCP  2121 +0 +ftp/m, 'and on 2121')
    const remove = inNetns(ns, ['modprobe', '-r', '-C', conf, 'ip_masq_ftp'])
    t.equal(remove.status, 0, `modprobe -r ip_masq_ftp: ${remove.stderr}`)
    t.notMatch(inNetns(ns, [join(root, 'usr/sbin/legacyfw'), 'proc', 'ip_masq/app']).stdout, /ftp/, 'removed again')
    // The 2.6 name: the real module first (this kernel has none: quietly nothing), then legacyfw.
    const nf = inNetns(ns, ['modprobe', '-C', conf, 'nf_conntrack_irc'])
    t.same([nf.stdout, nf.stderr, nf.status], ['', '', 0], 'modprobe nf_conntrack_irc')
    t.match(inNetns(ns, [join(root, 'usr/sbin/legacyfw'), 'proc', 'ip_masq/app']).stdout, /^TCP  6667 +0 +irc/m, 'the irc helper on 6667')
    const nfRemove = inNetns(ns, ['modprobe', '-r', '-C', conf, 'nf_conntrack_irc'])
    t.same([nfRemove.stderr, nfRemove.status], ['', 0], 'modprobe -r nf_conntrack_irc')
    t.notMatch(inNetns(ns, [join(root, 'usr/sbin/legacyfw'), 'proc', 'ip_masq/app']).stdout, /irc/, 'removed again')
  })
})

t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
