// Policy tests of whole corpus scripts: what each script means to do,
// checked with real traffic through a lan/gw/wan lab, first with the script
// run live in the gateway (bin/ipchains per command), then with its
// `legacyfw translate` output loaded into the same gateway by plain
// `nft -f` in place of the live rules. Both must show the intended policy,
// probe for probe, and so behave alike.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { GW_LAN, GW_WAN, LAN_ADDRS, type Lab, WAN, seen, withLab, withRouteBack } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'
import { runScript, setVariables } from '../src/runtime/sandbox.ts'
import { translateScript } from '../src/cli/legacyfw.ts'

const CORPUS = '/work/shared/corpus/ipchains'
const [LAN10, , LAN12] = LAN_ADDRS
const SILENCE = 1
const MASQ = (port: number): boolean => port >= 61000 && port <= 65095

type Outcome = string

/**
 * A probe's outcome in words: who answered and as whom the server saw the
 * client ("masq" for the gateway's address from a 2.2 masquerade port).
 */
const outcome = (p: { result: string; text?: string; type?: number; code?: number }): Outcome => {
  if (p.result === 'icmp') return `icmp ${p.type}/${p.code}`
  if (p.result !== 'reply') return p.result
  const s = seen(p.text)
  if (s.peer === GW_WAN && MASQ(s.port)) return 'reply, masqueraded'
  return `reply, seen from ${s.peer}`
}

/** The same probes for every script. */
const probe = async (lab: Lab): Promise<Record<string, Outcome>> => {
  const o: Record<string, Outcome> = {}
  o['lan -> wan tcp/8080'] = outcome(await lab.tcp('lan', WAN, 8080, { src: LAN10, timeout: SILENCE }))
  o['lan -> wan tcp/80'] = outcome(await lab.tcp('lan', WAN, 80, { src: LAN10, timeout: SILENCE }))
  o['lan -> wan udp/53'] = outcome(await lab.udp('lan', WAN, 53, { src: LAN10, timeout: SILENCE }))
  o['lan -> gw tcp/22'] = outcome(await lab.tcp('lan', GW_LAN, 22, { src: LAN10, timeout: SILENCE }))
  o['wan -> gw tcp/22'] = outcome(await lab.tcp('wan', GW_WAN, 22, { timeout: SILENCE }))
  o['wan -> gw tcp/2000'] = outcome(await lab.tcp('wan', GW_WAN, 2000, { timeout: SILENCE }))
  o['wan -> gw udp/53'] = outcome(await lab.udp('wan', GW_WAN, 53, { timeout: SILENCE }))
  await withRouteBack(lab, LAN12, async () => {
    o['wan -> lan tcp/2222'] = outcome(await lab.tcp('wan', LAN12, 2222, { timeout: SILENCE }))
  })
  return o
}

interface Case {
  readonly file: string
  readonly vars: Record<string, string>
  readonly args?: string[]
  /** The script's intent, as the probes see it. */
  readonly intent: Record<string, Outcome>
}

const CASES: Case[] = [
  {
    // "strong" 2.2 rc.firewall: masquerade the lan out wan0, anything to the
    // external address accepted, everything else rejected (REJECT: port-
    // unreachable; a connection from outside to the lan already meets the
    // input chain's final REJECT, as on 2.2).
    file: 'ipmasq-howto-2000-rc.firewall-2.2.x-strong.sh',
    vars: { extip: GW_WAN, extint: 'wan0', intint: 'lan0', intnet: '192.168.1.0/24' },
    intent: {
      'lan -> wan tcp/8080': 'reply, masqueraded',
      'lan -> wan tcp/80': 'reply, masqueraded',
      'lan -> wan udp/53': 'reply, masqueraded',
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      'wan -> gw tcp/22': `reply, seen from ${WAN}`,
      'wan -> gw tcp/2000': `reply, seen from ${WAN}`,
      'wan -> gw udp/53': `reply, seen from ${WAN}`,
      'wan -> lan tcp/2222': 'icmp 3/3',
    },
  },
  {
    // rp-pppoe: the lan may use listed services (53/udp, 80, 443, ... and
    // 1024:) through a masquerade; privileged gateway ports and connection
    // attempts from outside are denied, ident rejected.
    file: 'rp-pppoe-firewall.sh',
    vars: { EXTIF: 'wan+', INTERNAL: '192.168.1.0/24' },
    args: ['start'],
    intent: {
      'lan -> wan tcp/8080': 'reply, masqueraded',
      'lan -> wan tcp/80': 'reply, masqueraded',
      'lan -> wan udp/53': 'reply, masqueraded',
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      'wan -> gw tcp/22': 'timeout',
      'wan -> gw tcp/2000': 'timeout',
      'wan -> gw udp/53': 'timeout',
      'wan -> lan tcp/2222': 'timeout',
    },
  },
  {
    // 2005 "stronger": as the 2000 strong script, but nothing from outside
    // reaches the gateway itself. Its rule accepting traffic to $EXTIP is
    // commented out, so on 2.2 the input chain (which sees replies before
    // de-masquerading) rejected the replies to masqueraded connections too:
    // the lan gets nothing back, authentically.
    file: 'ipmasq-howto-2005-rc.firewall-ipchains-stronger.sh',
    vars: { EXTIF: 'wan0', INTIF: 'lan0', INTIP: `${GW_LAN}/32`, INTNET: '192.168.1.0/24', EXTIP: GW_WAN },
    intent: {
      'lan -> wan tcp/8080': 'timeout',
      'lan -> wan tcp/80': 'timeout',
      'lan -> wan udp/53': 'timeout',
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      'wan -> gw tcp/22': 'icmp 3/3',
      'wan -> gw tcp/2000': 'icmp 3/3',
      'wan -> gw udp/53': 'icmp 3/3',
      'wan -> lan tcp/2222': 'icmp 3/3',
    },
  },
  {
    // rp-pppoe masquerading gateway: masquerade everything forwarded (both
    // ways: a connection from outside reaches the lan from the gateway's lan
    // address), deny (and log) privileged ports arriving on the Internet link.
    file: 'rp-pppoe-firewall-masq.sh',
    vars: { EXTIF: 'wan0' },
    intent: {
      'lan -> wan tcp/8080': 'reply, masqueraded',
      'lan -> wan tcp/80': 'reply, masqueraded',
      'lan -> wan udp/53': 'reply, masqueraded',
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      'wan -> gw tcp/22': 'timeout',
      'wan -> gw tcp/2000': `reply, seen from ${WAN}`,
      'wan -> gw udp/53': 'timeout',
      'wan -> lan tcp/2222': `reply, seen from ${GW_LAN}`,
    },
  },
  {
    // Home-network rc.local: forward only the 192.168.1.0/24 lan, masqueraded;
    // the gateway itself stays open.
    file: 'home-network-mini-howto-rc.local.sh',
    vars: {},
    intent: {
      'lan -> wan tcp/8080': 'reply, masqueraded',
      'lan -> wan tcp/80': 'reply, masqueraded',
      'lan -> wan udp/53': 'reply, masqueraded',
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      'wan -> gw tcp/22': `reply, seen from ${WAN}`,
      'wan -> gw tcp/2000': `reply, seen from ${WAN}`,
      'wan -> gw udp/53': `reply, seen from ${WAN}`,
      'wan -> lan tcp/2222': 'timeout',
    },
  },
]

const missing = requireRootAndNft() ?? (spawnSync('python3', ['-c', '1']).status === 0 ? undefined : 'these tests need python3')
if (missing) t.fail(missing)
else {
  const tmp = mkdtempSync(join(tmpdir(), 'lfw-policy-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

  for (const c of CASES)
    t.test(c.file, async (t) => {
      // The script as used in the lab: its variables set for the lab's gateway.
      const path = join(tmp, basename(c.file))
      writeFileSync(path, setVariables(readFileSync(join(CORPUS, c.file), 'latin1'), c.vars), 'latin1')
      const tr = await translateScript(path, {
        args: c.args ?? [],
        interfaces: [
          { name: 'lan0', cidr: `${GW_LAN}/24` },
          { name: 'wan0', cidr: `${GW_WAN}/24` },
        ],
      })
      if (!tr) return t.fail('translate: the sandbox did not start')
      await withLab(async (lab) => {
        const servers = [
          await lab.serve('wan', { tcp: [80, 8080], udp: [53] }),
          await lab.serve('gw', { tcp: [22, 2000], udp: [53] }),
          await lab.serve('lan', { tcp: [2222] }),
        ]
        try {
          const live = await runScript(lab.ns.gw, path, { args: c.args ?? [] })
          t.ok(live.started, live.stderr)
          t.ok(live.calls.length > 0 && live.calls.every((call) => call.status === 0), 'every ipchains command of the live run succeeded', {
            failed: live.calls.filter((call) => call.status !== 0),
          })
          const liveOutcomes = await probe(lab)
          t.same(liveOutcomes, c.intent, 'live: the script does what it means to')

          // The live rules out, the translation in (plain nft -f), connections forgotten.
          t.equal(lab.exec('gw', ['nft', 'delete', 'table', 'ip', 'legacyfw_ipchains']).status, 0)
          lab.exec('gw', ['conntrack', '-F'])
          const load = lab.exec('gw', ['nft', '-f', '-'], tr.file)
          t.equal(load.status, 0, `the translation loads: ${load.stderr}`)
          const translated = await probe(lab)
          t.same(translated, liveOutcomes, 'translated and loaded: the same outcome for every probe')
        } finally {
          for (const s of servers) s.stop()
        }
      })
    })
}
