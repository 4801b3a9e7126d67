// The masquerading table from conntrack (translate/common/masq.ts), pure:
// lines captured on the lab's gateway (fixtures/masquerade/lab-2.2.*) after
// MASQ, ICMP, portfw, mfw, autofw -r/-p/-d traffic and a REDIRECT, listed by
// ipchains -M -L, ipfwadm -M -l and legacyfw proc ip_masquerade. The
// expected listings were written from the 2.0/2.2 sources (ip_masq.c,
// ip_masq_portfw.c, ip_masq_mfw.c, ip_masq_autofw.c), not by this code.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ipmasqadmMain } from '../src/tools/ipmasqadm.ts'
import { localAddresses } from '../src/runtime/interfaces.ts'
import { procMain } from '../src/cli/proc.ts'
import { type MasqForwarding, NO_FORWARDING, masqEntriesFromConntrack } from '../src/translate/common/masq.ts'
import { forwardingOf } from '../src/translate/ipmasqadm/forwarding.ts'
import { decodeMasq } from '../src/translate/ipmasqadm/state.ts'
import { MemoryStore } from './helpers/memory-store.ts'
import { captureSys } from './helpers/sys.ts'
import { pureWorld, runPure } from './helpers/tools.ts'

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/masquerade/${name}`, import.meta.url), 'utf8')

const GW_WAN = '203.0.113.1'
const [LAN10, LAN11, LAN12] = ['192.168.1.10', '192.168.1.11', '192.168.1.12']

// The gateway's ipmasqadm commands when the lines were captured (ipchains
// also had -j MASQ in forward, -m 1 on tcp 8000 and REDIRECT 3128 to 8888).
const LAB_TABLE = [
  ['portfw', '-a', '-P', 'tcp', '-L', GW_WAN, '80', '-R', LAN10, '80'],
  ['portfw', '-a', '-P', 'udp', '-L', GW_WAN, '53', '-R', LAN11, '5353'],
  ['mfw', '-A', '-m', '1', '-r', LAN12, '80'],
  ['autofw', '-A', '-r', 'udp', '6970', '7170', '-c', 'tcp', '7070'],
  ['autofw', '-A', '-r', 'udp', '7300', '7301', '-h', LAN12],
  ['autofw', '-A', '-p', 'tcp', '8080', `${LAN12}:80`],
  ['autofw', '-A', '-d', 'udp', '5000', '5010'],
]

const labForwarding = async (): Promise<MasqForwarding> => {
  const store = new MemoryStore()
  for (const args of LAB_TABLE) if ((await ipmasqadmMain(args, captureSys('ipmasqadm'), { store })) !== 0) throw new Error(args.join(' '))
  return forwardingOf([decodeMasq(store.read())], localAddresses(fixture('lab-2.2.ip-addr.json')))
}

const listing = async (argv: string[], conntrack: string, forwarding: MasqForwarding) => {
  const world = pureWorld()
  world.conntrack = conntrack
  world.forwarding = forwarding
  return runPure(world, argv)
}

const proc = (args: string[], conntrack: string, forwarding: MasqForwarding) => {
  const sys = captureSys('legacyfw')
  const status = procMain(args, sys, { read: () => undefined, conntrack: () => conntrack, forwarding: () => forwarding, tables: () => [] })
  return { status, stdout: sys.chunks.map((c) => c.text).join('') }
}

const withoutIcmp = (text: string): string =>
  text
    .split('\n')
    .filter((l) => !/\bicmp\b/.test(l))
    .join('\n')

t.test('the gateway addresses from ip -j addr show', async (t) => {
  t.same(localAddresses(fixture('lab-2.2.ip-addr.json')), [0x7f000001, 0xc0a80101, 0xcb007101])
})

for (const source of ['nf_conntrack', 'conntrack-L'] as const)
  t.test(`lab lines from ${source}: masqueraded, forwarded and -d connections; not the REDIRECT`, async (t) => {
    const lines = fixture(`lab-2.2.${source}`)
    const forwarding = await labForwarding()
    t.same(
      await listing(['ipchains', '-M', '-L', '-n'], lines, forwarding),
      { stdout: fixture('lab-2.2.ipchains-M-L-n'), stderr: '', status: 0 },
      'ipchains -M -L -n',
    )
    t.same(
      await listing(['ipfwadm', '-M', '-l', '-n'], withoutIcmp(lines), forwarding),
      { stdout: fixture('lab-2.2-no-icmp.ipfwadm-M-l-n'), stderr: '', status: 0 },
      'ipfwadm -M -l -n',
    )
    const icmp = await listing(['ipfwadm', '-M', '-l', '-n'], lines, forwarding)
    t.same(
      icmp,
      { stdout: 'IP masquerading entries\n', stderr: "ipfwadm: unexpected input data\nTry `ipfwadm -h' for more information.\n", status: 1 },
      'ipfwadm -M -l stops at the ICMP entry, as 2.0 did',
    )
    t.same(
      proc(['ip_masquerade'], lines, forwarding),
      { status: 0, stdout: fixture('lab-2.2.ip_masquerade-2.2') },
      'proc ip_masquerade (2.2): forwarded and -d entries take no free port',
    )
    t.same(
      proc(['--kernel', '2.0', 'ip_masquerade'], lines, forwarding),
      { status: 0, stdout: fixture('lab-2.2.ip_masquerade-2.0') },
      'proc ip_masquerade (2.0): every entry takes one',
    )
  })

t.test('without forwarding tables only what MASQ sent from 61000-65095 is listed', async (t) => {
  const expected = fixture('lab-2.2.ipchains-M-L-n')
    .split('\n')
    .filter((l) => !/\((\d+)\)/.test(l) || Number(/\((\d+)\)/.exec(l)?.[1]) >= 61000)
    .join('\n')
  t.same(await listing(['ipchains', '-M', '-L', '-n'], fixture('lab-2.2.nf_conntrack'), NO_FORWARDING), { stdout: expected, stderr: '', status: 0 })
  t.equal(expected.split('\n').length, 7, 'title, header and four entries')
})

t.test('ICMP: the query id, type << 8 | code, the masq id (2.0 and 2.2 icmp_hv_req)', async (t) => {
  const line =
    'ipv4     2 icmp     1 25 src=192.168.1.10 dst=203.0.113.50 type=13 code=0 id=7 src=203.0.113.50 dst=203.0.113.1 type=14 code=0 id=61005 mark=0 zone=0 use=2'
  const [e] = masqEntriesFromConntrack(line, NO_FORWARDING)
  t.match(e, { proto: 'ICMP', sport: 7, dport: 13 << 8, mport: 61005, expires: 2500, specificPort: false }, 'a timestamp request')
  const unmapped = line.replace('id=61005', 'id=7')
  t.same(masqEntriesFromConntrack(unmapped, NO_FORWARDING), [], 'an ICMP id NATed outside 61000-65095 is no masq entry')
})

// Lines the lab could produce without any legacy entry behind them.
t.test('other NAT is never listed', async (t) => {
  const forwarding = await labForwarding()
  const none = (line: string, why: string) => t.same(masqEntriesFromConntrack(line, forwarding), [], why)
  const fwd = (o: string, r: string) => `ipv4     2 tcp      6 119 TIME_WAIT ${o} ${r} [ASSURED] mark=0 zone=0 use=2`
  const udp = (o: string, r: string) => `ipv4     2 udp      17 29 ${o} ${r} mark=0 zone=0 use=2`
  none(
    fwd('src=203.0.113.50 dst=203.0.113.1 sport=41000 dport=80', 'src=192.168.1.11 dst=203.0.113.50 sport=80 dport=41000'),
    'port 80 DNATed to a host no portfw entry names',
  )
  none(
    fwd('src=203.0.113.50 dst=203.0.113.1 sport=41000 dport=81', 'src=192.168.1.10 dst=203.0.113.50 sport=80 dport=41000'),
    'a port no portfw entry covers',
  )
  none(
    fwd('src=203.0.113.50 dst=192.168.1.1 sport=41000 dport=80', 'src=192.168.1.10 dst=203.0.113.50 sport=80 dport=41000'),
    'portfw is for its local address only',
  )
  none(
    udp('src=203.0.113.50 dst=198.51.100.7 sport=41000 dport=6970', 'src=192.168.1.10 dst=203.0.113.50 sport=6970 dport=41000'),
    'a DNAT of transit traffic (not to the gateway)',
  )
  none(
    udp('src=203.0.113.50 dst=203.0.113.1 sport=41007 dport=7000', 'src=203.0.113.1 dst=203.0.113.50 sport=7000 dport=41007'),
    'a REDIRECT to the gateway itself, even on an autofw port',
  )
  none(
    udp('src=203.0.113.50 dst=203.0.113.1 sport=41008 dport=6970', 'src=192.168.1.10 dst=203.0.113.50 sport=7000 dport=41008'),
    'autofw -r forwards to the same port',
  )
  none(
    fwd('src=203.0.113.50 dst=203.0.113.1 sport=41008 dport=6970', 'src=192.168.1.10 dst=203.0.113.50 sport=6970 dport=41008'),
    'autofw -r udp: not TCP',
  )
  none(
    udp('src=192.168.1.10 dst=203.0.113.50 sport=40125 dport=9001', 'src=203.0.113.50 dst=203.0.113.1 sport=9001 dport=40125'),
    'SNAT keeping its port to a port outside any -d range',
  )
  none(
    fwd('src=192.168.1.10 dst=203.0.113.50 sport=40125 dport=9001', 'src=203.0.113.50 dst=203.0.113.1 sport=9001 dport=30000'),
    'SNAT to a port outside 61000-65095',
  )
  none(fwd('src=192.168.1.10 dst=203.0.113.50 sport=40125 dport=9001', 'src=203.0.113.50 dst=192.168.1.10 sport=9001 dport=40125'), 'no NAT at all')
})
