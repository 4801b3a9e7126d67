// TOS mangling, tos = (tos & and) ^ xor as ipfwadm and ipchains did it.
// nft 1.0.6 can only set the DSCP and ECN fields to constants with a correct
// IP checksum, so a helper chain tests each value that changes.
import type { NftChain, NftRule } from './ir.ts'

export const tosChainName = (and: number, xor: number): string => `tos_${and.toString(16).padStart(2, '0')}_${xor.toString(16).padStart(2, '0')}`

/** Helper chains that apply tos = (tos & and) ^ xor with a correct checksum. */
export const tosChains = (and: number, xor: number): NftChain[] => {
  const name = tosChainName(and, xor)
  const dscp = (v: number): number => (((v << 2) & and) ^ xor) >> 2
  const ecn = (v: number): number => (v & and & 3) ^ (xor & 3)
  const rules: NftRule[] = []
  const chains: NftChain[] = []
  const ecnChanges = [0, 1, 2, 3].filter((v) => ecn(v) !== v)
  if (ecnChanges.length) {
    chains.push({
      name: `${name}_ecn`,
      rules: ecnChanges.map((v) => ({ matches: [`ip ecn ${v}`], stmts: [`ip ecn set ${ecn(v)}`, 'return'] })),
    })
    rules.push({ matches: [], stmts: [`jump ${name}_ecn`] })
  }
  if ((and & 0xfc) === 0) rules.push({ matches: [], stmts: [`ip dscp set ${(xor & 0xfc) >> 2}`] })
  else for (let v = 0; v < 64; v++) if (dscp(v) !== v) rules.push({ matches: [`ip dscp ${v}`], stmts: [`ip dscp set ${dscp(v)}`, 'return'] })
  return [{ name, rules }, ...chains]
}
