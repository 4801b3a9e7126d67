// The forwarding the masquerade listings need to know (ipchains -M -L,
// ipfwadm -M -l, legacyfw proc ip_masquerade): the ipautofw and ipmasqadm
// tables of this namespace and its IPv4 addresses.
import type { MasqForwarding } from '../translate/common/masq.ts'
import { forwardingOf } from '../translate/ipmasqadm/forwarding.ts'
import { AUTOFW_TABLE } from '../translate/ipautofw/render.ts'
import { MASQADM_TABLE, decodeMasq } from '../translate/ipmasqadm/state.ts'
import { readLocalAddresses } from './interfaces.ts'
import { nftTableStore } from './store.ts'

export const readForwarding = (): MasqForwarding => {
  const tables = [AUTOFW_TABLE, MASQADM_TABLE].map((t) => decodeMasq(nftTableStore('ip', t).read()))
  return forwardingOf(tables, readLocalAddresses())
}
