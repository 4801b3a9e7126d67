// ip_masq_cuseeme (2.2, spec alg-modules.md §4) in nft rules alone: the
// CU-SeeMe header's fixed offsets, rewritten in place (lengths never
// change; the UDP checksum is cleared, nft 1.0.6 cannot update it). Offsets
// are bits from the UDP header; the header starts at its byte 8.
//   out (client -> reflector, after masquerading): addr (12) := masquerade address
//   in (reflector -> client, after de-masquerading): dest_addr (4) := client;
//      in an Open Continue (data_type 101), the first client_info record
//      (from byte 56, 12 bytes each) holding a masquerade address := client
// The masquerade addresses written out are learned in a set, since nft
// compares a payload field with a set but not with another field; the
// record walk is unrolled 4 deep (2.2's bound was the packet length).
import type { NftRule } from '../nft/ir.ts'
import type { AppRendering } from './apps.ts'
import { boundTo } from './bind.ts'
import type { LoadedApp } from './model.ts'

const OWN = 'cuseeme_own'
// UDP header (8) + cu_header (26).
const HEADER = 'udp length >= 34'
const RECORDS = 4

const recordRule = (i: number): NftRule => {
  const at = `@th,${(8 + 56 + 12 * i) * 8},32`
  return { matches: [`${at} @${OWN}`], stmts: [`${at} set @nh,128,32`, 'udp checksum set 0', 'return'] }
}

export const renderCuseeme = (app: LoadedApp): AppRendering => ({
  sets: [{ name: OWN, type: '@th,160,32', typeof: true, dynamic: true, timeout: '1h', elements: [] }],
  postrouting: boundTo(app, 'udp').map((m) => ({ matches: [...m, HEADER], stmts: ['jump cuseeme_out'] })),
  forward: boundTo(app, 'udp', 'reply').map((m) => ({ matches: [...m, HEADER], stmts: ['jump cuseeme_in'] })),
  chains: [
    {
      name: 'cuseeme_out',
      rules: [{ matches: ['@th,160,32 != 0'], stmts: ['@th,160,32 set @nh,96,32', 'udp checksum set 0', `add @${OWN} { @th,160,32 }`] }],
    },
    {
      name: 'cuseeme_in',
      rules: [
        { matches: ['@th,96,32 != 0'], stmts: ['@th,96,32 set @nh,128,32', 'udp checksum set 0'] },
        { matches: ['@th,240,16 != 101'], stmts: ['return'] },
        ...Array.from({ length: RECORDS }, (_, i) => recordRule(i)),
      ],
    },
  ],
})
