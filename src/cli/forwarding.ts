// The forwarding the masquerade listings need to know (ipchains -M -L,
// ipfwadm -M -l, legacyfw proc ip_masquerade): the ipautofw and ipmasqadm
// tables of this namespace and its IPv4 addresses.
import { spawnSync } from 'node:child_process'
import { dottedToAddr } from '../translate/common/inet.ts'
import type { MasqForwarding } from '../translate/common/masq.ts'
import { forwardingOf } from '../translate/ipmasqadm/forwarding.ts'
import { decodeMasq } from '../translate/ipmasqadm/state.ts'
import { nftFwStore } from '../runtime/fwstore.ts'
import { AUTOFW_TABLE, MASQADM_TABLE } from './ipmasqadm.ts'

interface IpLink {
  readonly addr_info?: readonly { readonly family?: string; readonly local?: string }[]
}

/** Every IPv4 address in `ip -j addr show` output. */
export const localAddresses = (json: string): number[] =>
  (JSON.parse(json) as IpLink[]).flatMap((link) =>
    (link.addr_info ?? []).flatMap((a) => {
      const addr = a.family === 'inet' ? dottedToAddr(a.local ?? '') : undefined
      return addr === undefined ? [] : [addr]
    }),
  )

export const readForwarding = (): MasqForwarding => {
  const ip = spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })
  const local = ip.status === 0 ? localAddresses(ip.stdout) : []
  return forwardingOf([AUTOFW_TABLE, MASQADM_TABLE].map((t) => decodeMasq(nftFwStore(t).read())), local)
}
