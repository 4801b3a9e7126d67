// Policy tests of whole corpus ipfwadm scripts (see helpers/policy.ts): each
// script's intent checked with real traffic through the lan/gw/wan lab, live
// (bin/ipfwadm per command) and as its `legacyfw translate` output loaded by
// plain `nft -f`, probe for probe. Scripts are pointed at the lab as in
// lab-ipfwadm.test.ts: their variables, and the literal addresses and
// interface names of their own network (192.168.0.x, ppp0).
//
// -V rules match the sets via_<ADDR>, which a translation fills with the
// interfaces of the sandbox that ran the script. The sandbox is given the
// gateway's names and addresses (lan0, wan0), so the loaded sets are right
// on their own: the live run's via watcher is gone before the load, and none
// runs while the translation is probed. The last test shows what happens
// otherwise, and what corrects it.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GW_LAN, GW_WAN, LAN_ADDRS, type Lab, WAN, counterRows, withLab, withRouteBack } from './helpers/lab.ts'
import { corpusPath } from './helpers/corpus-dir.mjs'
import { requireRootAndNft } from './helpers/netns.ts'
import { type Outcomes, type PolicyCase, type PolicyTool, type TapTest, labScript, lanToWan, policyTests, wanToGw } from './helpers/policy.ts'
import { translateScript } from '../src/script/translate.ts'

const [LAN10, , LAN12] = LAN_ADDRS
const TABLE = 'legacyfw_ipfwadm'

/** Is a via watcher (src/runtime/via-watch.ts) running in the gateway? Its abstract socket is listed per namespace. */
const watcherRunning = (lab: Lab): boolean => /@legacyfw-via-watch@*$/m.test(lab.exec('gw', ['cat', '/proc/net/unix']).stdout)

/** Whether `pred` holds within 6 s (the watcher checks its table every 2 s). */
const within = async (pred: () => boolean): Promise<boolean> => {
  const end = Date.now() + 6000
  while (!pred()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 100))
  }
  return true
}

/** The gateway's via sets and the interfaces they hold. */
const viaSets = (lab: Lab): Record<string, string[]> => {
  const r = lab.exec('gw', ['nft', '-j', 'list', 'table', 'ip', TABLE])
  if (r.status !== 0) throw new Error(`nft list table: ${r.stderr}`)
  const sets: Record<string, string[]> = {}
  for (const o of JSON.parse(r.stdout).nftables as { set?: { name: string; elem?: string[] } }[])
    if (o.set?.name.startsWith('via_')) sets[o.set.name] = [...(o.set.elem ?? [])].sort()
  return sets
}

/** Each via set as the gateway's interfaces would fill it (primary address -> interface). */
const GATEWAY_VIA: Record<string, string[]> = { via_127_0_0_1: ['lo'], via_192_168_1_1: ['lan0'], via_203_0_113_1: ['wan0'] }
const gatewayVia = (sets: Record<string, string[]>): Record<string, string[]> =>
  Object.fromEntries(Object.keys(sets).map((name) => [name, GATEWAY_VIA[name] ?? []]))

const TOOL: PolicyTool = {
  corpus: corpusPath('ipfwadm'),
  table: TABLE,
  beforeLoad: async (t: TapTest, lab: Lab) => {
    t.ok(await within(() => !watcherRunning(lab)), "the live run's via watcher ended with its table: nothing corrects the loaded sets")
  },
  afterLoad: async (t: TapTest, lab: Lab) => {
    const sets = viaSets(lab)
    t.same(sets, gatewayVia(sets), "the loaded via sets hold the gateway's interfaces (the sandbox had its names and addresses)")
    t.notOk(watcherRunning(lab), 'nft -f started no watcher')
  },
}

/** Packets counted by each accounting rule (1-based) of `ipfwadm -A -l -e -x -n`. */
const accounting = (lab: Lab): number[] => {
  const r = lab.ipfwadm('-A', '-l', '-e', '-x', '-n')
  if (r.status !== 0) throw new Error(`ipfwadm -A -l: ${r.stderr}`)
  return counterRows(r.stdout).map((row) => row.pkts)
}

/** The accounting rules a burst of datagrams moved, as "#RULE:PACKETS". */
const counted = async (lab: Lab, burst: () => Promise<unknown>): Promise<string> => {
  const before = accounting(lab)
  await burst()
  const after = accounting(lab)
  return after
    .map((n, i) => [i + 1, n - (before[i] ?? 0)] as const)
    .filter(([, d]) => d !== 0)
    .map(([rule, d]) => `#${rule}:${d}`)
    .join(' ')
}

const LAB_NETWORK = [
  ['192.168.0.', '192.168.1.'],
  ['ppp0', 'wan0'],
] as const

const STRONG_2000: PolicyCase = {
  // "stronger" 2.0 rc.firewall (static PPP): masquerade the lan out the PPP
  // link; from outside only the link's own address is reachable (the rest
  // meets the input list's final reject: port-unreachable); inside addresses
  // never leave on the link.
  file: 'ipmasq-howto-2000-rc.firewall-2.0.x-strong.sh',
  vars: { ppp_ip: GW_WAN },
  literals: LAB_NETWORK,
  intent: {
    ...lanToWan('reply, masqueraded'),
    'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
    ...wanToGw(`reply, seen from ${WAN}`),
    'wan -> lan tcp/2222': 'icmp 3/3',
  },
}

const CASES: PolicyCase[] = [
  STRONG_2000,
  {
    // 2005 "stronger": the 2000 script without the input rule accepting
    // traffic to ppp_ip. On 2.0 the input list saw replies before
    // de-masquerading, so it rejected the replies to masqueraded
    // connections too: the lan gets nothing back, authentically; the
    // gateway answers only the lan.
    file: 'ipmasq-howto-2005-rc.firewall-ipfwadm-stronger.sh',
    vars: { ppp_ip: GW_WAN },
    literals: LAB_NETWORK,
    intent: {
      ...lanToWan('timeout'),
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      ...wanToGw('icmp 3/3'),
      'wan -> lan tcp/2222': 'icmp 3/3',
    },
  },
  {
    // NET-3/4 HOWTO accounting: no filtering and no masquerading (wan has no
    // route back to the lan, so lan -> wan goes unanswered), TCP (ftp-data,
    // www, all) and UDP counted both ways for the local net and for any.
    // Rules: 1-8 for localnet (in -D / out -S: ftp-data, www, tcp, udp),
    // 9-16 the same for any.
    file: 'net3-4-howto-accounting-ipfwadm.sh',
    vars: { localnet: '192.168.1.0/24' },
    extra: async (lab: Lab): Promise<Outcomes> => ({
      'accounting: 5 udp lan -> wan': await counted(lab, () => lab.spoof('lan', { src: LAN10, dst: WAN, dport: 9000, count: 5 })),
      'accounting: 3 udp wan -> lan': await withRouteBack(lab, LAN12, () =>
        counted(lab, () => lab.spoof('wan', { src: WAN, dst: LAN12, dport: 9000, count: 3 })),
      ),
    }),
    intent: {
      ...lanToWan('timeout'),
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      ...wanToGw(`reply, seen from ${WAN}`),
      'wan -> lan tcp/2222': `reply, seen from ${WAN}`,
      // in -D any (15) as they arrive, out -S localnet (8) and -S any (16) as they leave
      'accounting: 5 udp lan -> wan': '#8:5 #15:5 #16:5',
      // in -D localnet (7) and -D any (15), out -S any (16)
      'accounting: 3 udp wan -> lan': '#7:3 #15:3 #16:3',
    },
  },
]

const missing = requireRootAndNft() ?? (spawnSync('python3', ['-c', '1']).status === 0 ? undefined : 'these tests need python3')
if (missing) t.fail(missing)
else {
  policyTests(TOOL, CASES)

  // A translation made where the interfaces have other names (here those of
  // the script's own network, eth0 and ppp0) fills its via sets with them:
  // loaded with nft -f, its -V rules match nothing on the gateway until an
  // ipfwadm command that rewrites the table, or the via watcher it starts,
  // corrects the sets.
  t.test('-V sets of a translation hold the sandbox interfaces until an ipfwadm command rewrites the table', async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'lfw-policy-via-'))
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
    const path = labScript(TOOL, STRONG_2000, tmp)
    const tr = await translateScript(path, {
      interfaces: [
        { name: 'eth0', cidr: `${GW_LAN}/24` },
        { name: 'ppp0', cidr: `${GW_WAN}/24` },
      ],
    })
    if ('failure' in tr) return t.fail(`translate: no translation: ${JSON.stringify(tr)}`)
    await withLab(async (lab) => {
      const gw = await lab.serve('gw', { tcp: [22] })
      try {
        const load = lab.exec('gw', ['nft', '-f', '-'], tr.file)
        t.equal(load.status, 0, `the translation loads: ${load.stderr}`)
        t.same(
          viaSets(lab),
          { via_127_0_0_1: ['lo'], via_192_168_1_1: ['eth0'], via_203_0_113_1: ['ppp0'] },
          "the sets hold the sandbox's interfaces",
        )
        t.notOk(watcherRunning(lab), 'no watcher runs')
        const reach = async (): Promise<string[]> => [
          (await lab.tcp('lan', GW_LAN, 22, { src: LAN10, timeout: 1 })).result,
          (await lab.tcp('wan', GW_WAN, 22, { timeout: 1 })).result,
        ]
        t.same(await reach(), ['timeout', 'timeout'], '-V rules match nothing: lan and wan are rejected, and the output list drops the errors')

        // Appending a rule without -V only adds it (the read-free append): the sets stay.
        t.equal(lab.ipfwadm('-A', 'in', '-a', '-P', 'udp', '-D', '0/0', '9').status, 0)
        t.same(
          viaSets(lab),
          { via_127_0_0_1: ['lo'], via_192_168_1_1: ['eth0'], via_203_0_113_1: ['ppp0'] },
          'an append without -V leaves the sets',
        )

        // Any command that rewrites the table fills them from the gateway and starts the watcher.
        t.equal(lab.ipfwadm('-A', 'in', '-d', '-P', 'udp', '-D', '0/0', '9').status, 0)
        t.same(viaSets(lab), GATEWAY_VIA, 'a deletion rewrote the sets with the gateway interfaces')
        t.ok(await within(() => watcherRunning(lab)), 'and started the via watcher')
        t.same(await reach(), ['reply', 'reply'], 'the -V rules match again')
      } finally {
        gw.stop()
      }
    })
  })
}
