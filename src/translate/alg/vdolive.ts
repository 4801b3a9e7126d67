// ip_masq_vdolive (spec alg-modules.md §5) in nft rules alone: the
// client's first packets name its UDP port at fixed offsets of the TCP
// payload (tag 6: "VDO Live" at byte 24, port at 34; tag 1: "VDO Live" at
// 8, port at 18); the gateway learns (server, port) -> client and forwards
// the server's UDP to that port on the gateway to the client, same port
// (2.2 chose a masquerade port and rewrote the packet: docs/divergences.md).
import { FORWARDED_LABEL } from '../nft/labels.ts'
import type { AppRendering } from './apps.ts'
import { boundTo } from './bind.ts'
import type { LoadedApp } from './model.ts'

const HOLE = 'vdolive_hole'
const VDO_LIVE = '0x56444f204c697665'
const learn = (port: number): string => `update @${HOLE} { ip daddr . @ih,${port * 8},8 . @ih,${port * 8 + 8},8 : ip saddr }`
const hole = `ip saddr . @th,16,8 . @th,24,8`

export const renderVdolive = (app: LoadedApp): AppRendering => ({
  maps: [{ name: HOLE, key: 'ip daddr . @ih,272,8 . @ih,280,8', value: 'ip saddr', typeof: true, timeoutSeconds: 120 }],
  forward: boundTo(app, 'tcp').map((m) => ({ matches: m, stmts: ['jump vdolive_learn'] })),
  chains: [
    {
      name: 'vdolive_learn',
      rules: [
        { matches: ['@ih,32,32 6', `@ih,192,64 ${VDO_LIVE}`], stmts: [learn(34)] },
        { matches: ['@ih,32,32 1', `@ih,64,64 ${VDO_LIVE}`], stmts: [learn(18)] },
      ],
    },
  ],
  // The hole is de-masqueraded: it skips forward.
  natPrerouting: [
    {
      matches: ['fib daddr type local', 'meta l4proto udp', `${hole} @${HOLE}`],
      stmts: [`ct label set ${FORWARDED_LABEL}`, `dnat ip to ${hole} map @${HOLE}`],
    },
  ],
})
