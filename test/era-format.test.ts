// The 2.2-era userland formatters (src/translate/era) against expected text
// written from net-tools 1.54's printf formats (fixtures/era/expected.py),
// on `ip -j` output captured in a namespace (fixtures/era/capture.sh).
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { formatInterface, formatInterfaces, nstrcmp, showInterface } from '../src/translate/era/ifconfig.ts'
import { ifconfigEdit } from '../src/translate/era/ifconfig-set.ts'
import { interfacesFromIp, routesFromIp, statsFromIpLink } from '../src/translate/era/ip-json.ts'
import type { EraInterface } from '../src/translate/era/model.ts'
import { formatRouteTable } from '../src/translate/era/route.ts'
import { routeEdit, routeKernelError } from '../src/translate/era/route-set.ts'
import { dottedToAddr } from '../src/translate/common/inet.ts'

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/era/${name}`, import.meta.url), 'utf8')
const a = (dotted: string): number => dottedToAddr(dotted) ?? 0

const ifaces = interfacesFromIp(fixture('ip-addr.json'), statsFromIpLink(fixture('ip-link-stats.json')))
const routes = routesFromIp(fixture('ip-route.json'))

t.test('ifconfig listings', async (t) => {
  t.equal(formatInterfaces(ifaces, true), fixture('ifconfig-a.txt'), 'ifconfig -a')
  t.equal(formatInterfaces(ifaces, false), fixture('ifconfig.txt'), 'ifconfig: up interfaces only')
  t.same(showInterface(ifaces, 'eth0'), { stdout: fixture('ifconfig-eth0.txt'), stderr: '', status: 0 })
  t.same(showInterface(ifaces, 'eth0:0'), { stdout: fixture('ifconfig-eth0-0.txt'), stderr: '', status: 0 })
  t.same(showInterface(ifaces, 'eth0:7'), { stdout: fixture('ifconfig-eth0-7.txt'), stderr: '', status: 0 })
  t.same(showInterface(ifaces, 'eth9'), {
    stdout: '',
    stderr: 'eth9: error fetching interface information: Device not found\n',
    status: 1,
  })
})

t.test('a ppp link prints P-t-P and no hardware address', async (t) => {
  const ppp: EraInterface = {
    name: 'ppp0',
    linkType: 'ppp',
    hwAddress: [],
    flags: ['UP', 'POINTOPOINT', 'RUNNING', 'NOARP', 'MULTICAST'],
    mtu: 1500,
    metric: 0,
    txQueueLength: 3,
    ipv4: { local: a('10.64.64.64'), peer: a('10.112.112.112'), mask: 0xffffffff, broadcast: 0 },
    stats: {
      rxPackets: 0,
      rxErrors: 0,
      rxDropped: 0,
      rxOverruns: 0,
      rxFrame: 0,
      txPackets: 0,
      txErrors: 0,
      txDropped: 0,
      txOverruns: 0,
      txCarrier: 0,
      collisions: 0,
    },
  }
  t.equal(formatInterface(ppp), fixture('ifconfig-ppp-link.txt'))
  t.match(formatInterface({ ...ppp, flags: [] }), /^ {10}\[NO FLAGS\]  MTU:1500  Metric:1$/m)
})

t.test('nstrcmp orders numbers by value and aliases after their device', async (t) => {
  const names = ['eth10', 'eth2', 'eth0:1', 'eth0', 'lo', 'eth0:0']
  t.same(names.sort(nstrcmp), ['eth0', 'eth0:0', 'eth0:1', 'eth2', 'eth10', 'lo'])
})

t.test('route and netstat -r listings, in 2.2 FIB order', async (t) => {
  t.equal(formatRouteTable(routes, 'route'), fixture('route-n.txt'), 'route -n')
  t.equal(formatRouteTable(routes, 'netstat'), fixture('netstat-rn.txt'), 'netstat -rn')
  const hosts = new Map([[a('192.168.1.254'), 'gw.example']])
  const nets = new Map([[a('192.168.1.0'), 'localnet']])
  const names = { host: (addr: number) => hosts.get(addr), net: (addr: number) => nets.get(addr) }
  t.equal(formatRouteTable(routes, 'route', names), fixture('route.txt'), 'route')
})

/** Runs a corpus pipeline with bash over the listing, as the script would. */
const pipeline = (listing: string, command: string): string => {
  const result = spawnSync('bash', ['-c', `printf '%s' "$OUT" | ${command}`], {
    encoding: 'utf8',
    env: { ...process.env, OUT: listing },
  })
  return result.stdout
}

t.test('the corpus pipelines extract the addresses', async (t) => {
  const eth0 = showInterface(ifaces, 'eth0').stdout
  const ppp0 = showInterface(ifaces, 'ppp0').stdout
  const all = formatInterfaces(ifaces, false)
  // security-quickstart-ipchains-*.sh
  t.equal(pipeline(eth0, 'grep inet | cut -d : -f 2 | cut -d \\  -f 1'), '192.168.1.1\n')
  t.equal(pipeline(eth0, 'grep Mask | cut -d : -f 4'), '255.255.255.0\n')
  // redhat-initscripts-6.86-ifup-post.sh
  t.equal(pipeline(eth0, "grep 'inet addr' | awk -F: '{ print $2 } ' | awk '{ print $1 }'"), '192.168.1.1\n')
  // ipmasq-howto-*-rc.firewall (commented), napster-howto-debian-ip-up.d-forward.sh
  t.equal(pipeline(ppp0, "grep 'inet addr' | awk '{print $2}' | sed -e 's/.*://'"), '10.64.64.64\n')
  // napster-howto-dhcp-portfw.sh
  t.equal(pipeline(eth0, 'awk \'/inet/ {sub(/addr:/,"",$2); print $2}\''), '192.168.1.1\n')
  // bnetd-bnetmasq.sh
  t.equal(pipeline(eth0, "grep 'inet addr:' | sed 's/.*inet addr:\\([0-9.]*\\).*/\\1/g'"), '192.168.1.1\n')
  // bastille-portforward.sh
  t.equal(pipeline(eth0, "grep inet.addr|awk '{print $2}'|awk -F: '{print $2}'"), '192.168.1.1\n')
  // ipmasq-howto-2005-rc.firewall-ipchains-stronger.sh (EXTIF=eth0)
  t.equal(pipeline(eth0, 'awk /eth0/\'{next}//{split($0,a,":");split(a[2],a," ");print a[1];exit}\''), '192.168.1.1\n')
  // bastille-ipchains.sh LOCAL_ADDRESSES and INTERNAL_NETWORKS
  t.equal(
    pipeline(all, 'grep "inet addr" | awk \'{print $2}\' | awk -F: \'{print $2"/32"}\' | sed s:127\\.0\\.0\\.1/32:127.0.0.1/8:'),
    '192.168.1.1/32\n192.168.1.2/32\n127.0.0.1/8\n10.64.64.64/32\n',
  )
  t.equal(pipeline(eth0, 'grep "inet addr" | awk \'{print $2":"$4}\' | awk -F: \'{print $2"/"$4}\''), '192.168.1.1/255.255.255.0\n')
})

t.test('route add/del map to ip route', async (t) => {
  // freeswan _updown, cipe ip-up
  t.same(routeEdit('add', ['-net', '10.1.0.0', 'netmask', '255.255.0.0', 'dev', 'ipsec0', 'gw', '192.168.1.254']), {
    ok: true,
    ip: ['ip', 'route', 'add', '10.1.0.0/16', 'via', '192.168.1.254', 'dev', 'ipsec0'],
  })
  t.same(routeEdit('add', ['-host', '10.9.9.9', 'dev', 'cipcb0']), {
    ok: true,
    ip: ['ip', 'route', 'add', '10.9.9.9/32', 'dev', 'cipcb0'],
  })
  t.same(routeEdit('add', ['default', 'gw', '192.168.1.254', 'metric', '1']), {
    ok: true,
    ip: ['ip', 'route', 'add', '0.0.0.0/0', 'metric', '1', 'via', '192.168.1.254'],
  })
  t.same(routeEdit('del', ['-net', '0.0.0.0', 'netmask', '128.0.0.0']), {
    ok: true,
    ip: ['ip', 'route', 'del', '0.0.0.0/1'],
  })
  t.same(routeEdit('add', ['-net', '10.99.0.0', 'netmask', '255.255.0.0', 'reject']), {
    ok: true,
    ip: ['ip', 'route', 'add', 'unreachable', '10.99.0.0/16'],
  })
  t.same(routeEdit('add', ['-net', '192.168.5.0', 'netmask', '255.255.255.0', 'eth1']), {
    ok: true,
    ip: ['ip', 'route', 'add', '192.168.5.0/24', 'dev', 'eth1'],
  })
})

t.test('route add/del errors as net-tools 1.54 printed them', async (t) => {
  const nomask = routeEdit('add', ['-net', '10.0.0.0', 'dev', 'eth0'])
  t.same(nomask, { ok: false, stderr: 'SIOCADDRT: Invalid argument\n', status: 7 }, '2.2 takes no netmask as /0')
  const hostmask = routeEdit('add', ['10.0.0.0', 'netmask', '255.0.0.0', 'dev', 'eth0'])
  t.match(hostmask, { ok: false, status: 4 })
  t.match(hostmask.ok ? '' : hostmask.stderr, /^route: netmask 00ffffff doesn't make sense with host route\nUsage: route /)
  const bogus = routeEdit('add', ['-net', '10.0.0.0', 'netmask', '255.0.255.0'])
  t.match(bogus.ok ? '' : bogus.stderr, /^route: bogus netmask 255\.0\.255\.0\n/)
  t.same(routeEdit('add', ['-net', 'nowhere', 'dev', 'eth0']), { ok: false, stderr: 'nowhere: Unknown host\n', status: 1 })
  const dangling = routeEdit('add', ['-net', '10.0.0.0', 'netmask', '255.0.0.0', 'eth0', 'extra'])
  t.match(dangling, { ok: false, status: 4 })
  t.match(dangling.ok ? '' : dangling.stderr, /^Usage: inet_route \[-vF\] del/)
  t.same(routeKernelError('del', 'RTNETLINK answers: No such process\n'), {
    ok: false,
    stderr: 'SIOCDELRT: No such process\n',
    status: 7,
  })
  t.same(routeKernelError('add', 'Error: Nexthop has invalid gateway.\n'), {
    ok: false,
    stderr: 'SIOCADDRT: Network is unreachable\n',
    status: 7,
  })
})

t.test('ifconfig configuring forms map to ip addr/link', async (t) => {
  t.same(ifconfigEdit(ifaces, 'eth1', ['192.168.2.1', 'netmask', '255.255.255.0', 'broadcast', '192.168.2.255', 'up']), {
    ip: [
      ['ip', 'addr', 'add', '192.168.2.1/24', 'broadcast', '192.168.2.255', 'dev', 'eth1', 'label', 'eth1'],
      ['ip', 'link', 'set', 'dev', 'eth1', 'up'],
      ['ip', 'link', 'set', 'dev', 'eth1', 'up'],
    ],
    stderr: '',
    status: 0,
  })
  // 2.2 kept the classful broadcast when only the netmask changed.
  t.same(ifconfigEdit(ifaces, 'eth1', ['10.0.0.1', 'netmask', '255.255.255.0']).ip[0], [
    'ip',
    'addr',
    'add',
    '10.0.0.1/24',
    'broadcast',
    '10.255.255.255',
    'dev',
    'eth1',
    'label',
    'eth1',
  ])
  t.same(ifconfigEdit(ifaces, 'eth0:1', ['192.168.1.20']), {
    ip: [['ip', 'addr', 'add', '192.168.1.20/24', 'broadcast', '192.168.1.255', 'dev', 'eth0', 'label', 'eth0:1']],
    stderr: '',
    status: 0,
  })
  t.same(ifconfigEdit(ifaces, 'eth0:0', ['down']).ip, [['ip', 'addr', 'flush', 'dev', 'eth0', 'label', 'eth0:0']])
  t.same(ifconfigEdit(ifaces, 'eth1', ['down']).ip, [['ip', 'link', 'set', 'dev', 'eth1', 'down']])
  t.same(ifconfigEdit(ifaces, 'eth0', ['192.168.1.1', 'mtu', '1400']).ip, [
    ['ip', 'link', 'set', 'dev', 'eth0', 'mtu', '1400'],
    ['ip', 'link', 'set', 'dev', 'eth0', 'up'],
  ])
  t.same(ifconfigEdit(ifaces, 'eth9', ['1.2.3.4']), {
    ip: [],
    stderr: 'SIOCSIFADDR: No such device\neth9: unknown interface: No such device\n',
    status: 1,
  })
  const bad = ifconfigEdit(ifaces, 'eth1', ['nohost'])
  t.equal(bad.status, 4)
  t.match(bad.stderr, /^nohost: Unknown host\nUsage:\n  ifconfig \[-a\] \[-i\] \[-v\] <interface>/)
  t.match(bad.stderr, /\n    loop \(Local Loopback\) slip \(Serial Line IP\) cslip \(VJ Serial Line IP\) \n/)
  t.same(ifconfigEdit(ifaces, 'eth1', ['netmask', '255.255.255.0']), {
    ip: [],
    stderr: 'SIOCSIFNETMASK: Cannot assign requested address\n',
    status: 0,
  })
})
