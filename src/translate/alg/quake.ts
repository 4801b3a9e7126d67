// ip_masq_quake (spec alg-modules.md §6), external server case, in nft
// rules alone: a server answers a client's connect (CCREQ_CONNECT: control
// flags 0x8000, command 1, "QUAKE\0", protocol 3) from a new port; 2.2
// moved the entry's remote port to it. Here the gateway learns (server,
// masquerade port) -> client from the connect, after masquerading, and
// forwards the server's new flows to that masquerade port to the client
// (looser than 2.2: any port of that server, for 5 minutes). Other control
// packets (a server info query) learn nothing, as 2.2 set nothing for them.
import { FORWARDED_LABEL } from '../nft/labels.ts'
import type { AppRendering } from './apps.ts'
import { boundTo } from './bind.ts'
import type { LoadedApp } from './model.ts'

const SERVERS = 'quake_servers'
// Bits from the UDP header: the control flags, the command, "QUAKE\0" and the protocol version 3.
const CONNECT = ['@th,64,16 0x8000', '@th,96,8 0x01', '@th,104,56 0x5155414b450003']

export const renderQuake = (app: LoadedApp): AppRendering => ({
  maps: [{ name: SERVERS, key: 'ipv4_addr . inet_service', value: 'ipv4_addr . inet_service', timeoutSeconds: 300 }],
  postrouting: boundTo(app, 'udp').map((m) => ({
    matches: [...m, ...CONNECT],
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
