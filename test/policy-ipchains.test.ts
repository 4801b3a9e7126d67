// Policy tests of five whole corpus ipchains scripts (see helpers/policy.ts):
// each script's intent checked with real traffic through the lan/gw/wan lab,
// live (bin/ipchains per command) and as its `legacyfw translate` output
// loaded by plain `nft -f`, probe for probe.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { GW_LAN, GW_WAN, LAN_ADDRS, WAN } from './helpers/lab.ts'
import { corpusPath } from './helpers/corpus-dir.mjs'
import { requireRootAndNft } from './helpers/netns.ts'
import { type PolicyCase, lanToWan, policyTests, wanToGw } from './helpers/policy.ts'

const [LAN10] = LAN_ADDRS

const CASES: PolicyCase[] = [
  {
    // "strong" 2.2 rc.firewall: masquerade the lan out wan0, anything to the
    // external address accepted, everything else rejected (REJECT: port-
    // unreachable; a connection from outside to the lan already meets the
    // input chain's final REJECT, as on 2.2).
    file: 'ipmasq-howto-2000-rc.firewall-2.2.x-strong.sh',
    vars: { extip: GW_WAN, extint: 'wan0', intint: 'lan0', intnet: '192.168.1.0/24' },
    intent: {
      ...lanToWan('reply, masqueraded'),
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      ...wanToGw(`reply, seen from ${WAN}`),
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
      ...lanToWan('reply, masqueraded'),
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      ...wanToGw('timeout'),
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
      ...lanToWan('timeout'),
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      ...wanToGw('icmp 3/3'),
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
      ...lanToWan('reply, masqueraded'),
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
      ...lanToWan('reply, masqueraded'),
      'lan -> gw tcp/22': `reply, seen from ${LAN10}`,
      ...wanToGw(`reply, seen from ${WAN}`),
      'wan -> lan tcp/2222': 'timeout',
    },
  },
]

const missing = requireRootAndNft() ?? (spawnSync('python3', ['-c', '1']).status === 0 ? undefined : 'these tests need python3')
if (missing) t.fail(missing)
else policyTests({ corpus: corpusPath('ipchains'), table: 'legacyfw_ipchains' }, CASES)
