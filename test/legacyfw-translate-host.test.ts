// `legacyfw translate` never changes the host: a network namespace stands
// in for it (interfaces, routes, an nftables ruleset, sysctls of its own),
// and a script that tries to change all of these, load and unload modules
// and write to /etc runs through translate there. Everything is byte for
// byte as before; the script saw its own changes inside the sandbox.
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteNetns, inNetns, newNetns, requireRootAndNft } from './helpers/netns.ts'

const LEGACYFW = new URL('../bin/legacyfw', import.meta.url).pathname
const MARK = `/etc/legacyfw-translate-test-${process.pid}`

const SCRIPT = `ipchains -P input DENY
ipchains -A input -s 10.0.0.0/8 -j ACCEPT
echo 0 > /proc/sys/net/ipv4/ip_forward
echo 2 > /proc/sys/net/ipv4/conf/all/rp_filter
sysctl -q -w net.ipv4.ip_default_ttl=5
ifconfig eth0 down
ip addr flush dev eth0
ip link add lfwtest0 type veth peer name lfwtest1
ip route add 10.9.0.0/16 dev lo
nft flush ruleset
nft add table ip evil
iptables -A INPUT -j DROP 2>/dev/null
modprobe ip_masq_ftp
rmmod ip_masq_ftp
insmod /lib/modules/ip_masq_raudio.o
touch ${MARK}
echo "inside: forward=$(cat /proc/sys/net/ipv4/ip_forward) ttl=$(cat /proc/sys/net/ipv4/ip_default_ttl) tables=$(nft list tables | tr '\\n' ' ')" >&2
ip -o link show lfwtest0 >/dev/null && echo "inside: lfwtest0 exists" >&2
`

/** Everything of the stand-in host that the script tries to change. */
const snapshot = (ns: string): Record<string, string> => {
  const sh = (cmd: string): string => {
    const r = inNetns(ns, ['sh', '-c', cmd])
    return `${r.status}\n${r.stdout}${r.stderr}`
  }
  return {
    ruleset: sh('nft list ruleset'),
    links: sh('ip -d link show'),
    addresses: sh('ip addr show'),
    routes: sh('ip route show table all'),
    sysctls: sh('for f in $(find /proc/sys/net -type f -perm -0400 | sort); do printf "%s=%s\\n" "$f" "$(cat "$f" 2>&1)"; done'),
    // Loaded modules (/proc/modules, where the kernel has loadable modules) and every module the kernel knows.
    modules: `${
      existsSync('/proc/modules')
        ? readFileSync('/proc/modules', 'utf8')
            .split('\n')
            .map((l) => l.split(' ').slice(0, 2).join(' '))
            .sort()
            .join('\n')
        : ''
    }\n${readdirSync('/sys/module').sort().join(' ')}`,
  }
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else
  t.test('translate leaves the host as it was', async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'lfw-host-test-'))
    const ns = newNetns('host')
    try {
      const script = join(tmp, 'rc.firewall')
      writeFileSync(script, SCRIPT)
      // The stand-in host: an interface with an address and a route, a ruleset, sysctls not at their defaults.
      // (No IPv6: its link-local addresses would settle while the test runs.)
      for (const argv of [
        ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
        ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9'],
        ['ip', 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0'],
        ['ip', 'link', 'set', 'eth0', 'up'],
        ['ip', 'link', 'set', 'eth9', 'up'],
        ['ip', 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.1'],
        [
          'nft',
          'add table inet host; add chain inet host in { type filter hook input priority 0; policy accept; }; add rule inet host in tcp dport 22 accept',
        ],
        ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.ip_default_ttl=77'],
      ]) {
        const r = argv[0] === 'nft' ? inNetns(ns, ['nft', argv[1] as string]) : inNetns(ns, argv)
        t.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`)
      }
      const before = snapshot(ns)
      const r = inNetns(ns, [LEGACYFW, 'translate', script])
      t.equal(r.status, 0, r.stderr)
      t.match(r.stderr, /inside: forward=0 ttl=5 tables=table ip evil/, 'the script changed its sandbox')
      t.match(r.stderr, /inside: lfwtest0 exists/)
      // Helper modules go to the helper table of the file: ip_masq_ftp was loaded (13) and removed (14) again.
      t.match(r.stdout, /\tchain records \{\n\t\tcontinue comment "raudio ip_masq_raudio ports=554,7070" # script:15\n\t\}/)
      t.notMatch(r.stdout, /ip_masq_ftp/)
      t.match(r.stdout, /ip saddr 10\.0\.0\.0\/8 counter name "r1" accept comment "-s 10\.0\.0\.0\/8 -j ACCEPT" # script:2\n/)
      const after = snapshot(ns)
      for (const key of Object.keys(before)) t.equal(after[key], before[key], `host ${key} unchanged`)
      t.notOk(existsSync(MARK), `${MARK} was not written`)
    } finally {
      deleteNetns(ns)
      rmSync(tmp, { recursive: true, force: true })
      rmSync(MARK, { force: true })
    }
  })
