// The forwarding the masquerade listings need to know (ipchains -M -L,
// ipfwadm -M -l, legacyfw proc ip_masquerade): the ipautofw and ipmasqadm
// tables of this namespace and its IPv4 addresses.
import type { MasqForwarding } from '../translate/common/masq.ts'
import { forwardingOf } from '../translate/ipmasqadm/forwarding.ts'
import { AUTOFW_TABLE, MASQADM_TABLE, decodeMasq } from '../translate/ipmasqadm/state.ts'
import { nftFwStore } from './fwstore.ts'
import { readLocalAddresses } from './interfaces.ts'


export const readForwarding = (): MasqForwarding => {
  const tables = [AUTOFW_TABLE, MASQADM_TABLE].map((t) => decodeMasq(nftFwStore(t).read()))
  return forwardingOf(tables, readLocalAddresses())
}
