// ip_masq_quake (spec alg-modules.md §6), external server case, in nft
// rules alone: a server answers a client's connect (a control packet,
// flags 0x8000) from a new port; 2.2 moved the entry's remote port to it.
// Here the gateway learns (server, masquerade port) -> client after
// masquerading and forwards the server's new flows to that masquerade port
// to the client (looser than 2.2: any port of that server, for 5 minutes).
import { FORWARDED_LABEL } from '../nft/labels.ts'
import type { AppRendering } from './apps.ts'
import { boundTo } from './bind.ts'
import type { LoadedApp } from './model.ts'

const SERVERS = 'quake_servers'

export const renderQuake = (app: LoadedApp): AppRendering => ({
  maps: [{ name: SERVERS, key: 'ipv4_addr . inet_service', value: 'ipv4_addr . inet_service', timeoutSeconds: 300 }],
  postrouting: boundTo(app, 'udp').map((m) => ({
    matches: [...m, '@th,64,16 0x8000'],
    stmts: [`update @${SERVERS} { ip daddr . udp sport : ct original ip saddr . ct original proto-src }`],
  })),
  // The server's flow is de-masqueraded: it skips forward.
  natPrerouting: [
    {
      matches: ['fib daddr type local', 'meta l4proto udp', `ip saddr . udp dport @${SERVERS}`],
      stmts: [`ct label set ${FORWARDED_LABEL}`, `dnat ip to ip saddr . udp dport map @${SERVERS}`],
    },
  ],
})
