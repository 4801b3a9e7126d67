// ftp, irc and sip: the kernel's own conntrack helpers (nf_conntrack_ftp +
// nf_nat_ftp, ...) do what ip_masq_ftp/irc did, once a rule assigns them to
// a connection (nothing is assigned by port on a modern kernel).
import type { NftCtHelper, NftRule } from '../nft/ir.ts'
import { quote } from '../nft/text.ts'
import { type Proto, boundTo } from './bind.ts'
import type { AppRendering } from './apps.ts'
import type { LoadedApp } from './model.ts'

/** The renderer of an app the kernel helper `type` implements. */
export const kernelHelper =
  (type: string, proto: Proto) =>
  (app: LoadedApp): AppRendering => {
    const helper: NftCtHelper = { name: `${type}_${proto}`, type, protocol: proto }
    // Assigned when the connection is created (a helper cannot be added to a confirmed one).
    const assign = (matches: readonly string[]): NftRule => ({
      matches: ['ct state new', ...matches],
      stmts: [`ct helper set ${quote(helper.name)}`],
    })
    return { ctHelpers: [helper], forward: boundTo(app, proto).map(assign) }
  }
