// ipchains-save (ipchains-scripts 1.1.2): the chains as a file of ipchains
// arguments. First a `:CHAIN POLICY` line per chain in kernel order (user
// chains get `-`, as /proc/net/ip_fwnames shows them), then, chain by chain
// in the order input, output, forward, user chains, one line per rule:
//     -A ippp0_ou -s 149.225.25.39/255.255.255.255 123:123 -d 0.0.0.0/0.0.0.0 123:123 -p 17 -j ACCEPT -l
// ``Saving `CHAIN'.`` goes to stderr for each chain, and with -v each rule too.
// See docs/decisions.md for the details the sources leave open.
import { addrToDotted } from '../common/inet.ts'
import { type Chain, type PortRange, type Rule, type State, F, INV, isBuiltin } from './model.ts'

export interface Output {
  readonly stream: 'out' | 'err'
  readonly text: string
}

const address = (addr: number, mask: number): string => `${addrToDotted(addr)}/${addrToDotted(mask)}`

const isAllPorts = (range: PortRange): boolean => range[0] === 0 && range[1] === 0xffff

/** One rule in the argument syntax ipchains-save writes. */
export const savedRuleWords = (rule: Rule): string[] => {
  const not = (bit: number): string[] => (rule.invflg & bit ? ['!'] : [])
  const ports = (range: PortRange, bit: number): string[] =>
    isAllPorts(range) && !(rule.invflg & bit) ? [] : [...not(bit), `${range[0]}:${range[1]}`]
  const words = [
    '-s',
    ...not(INV.SRCIP),
    address(rule.src, rule.smsk),
    ...ports(rule.spts, INV.SRCPT),
    '-d',
    ...not(INV.DSTIP),
    address(rule.dst, rule.dmsk),
    ...ports(rule.dpts, INV.DSTPT),
  ]
  // An empty name always carries the wildcard flag, so "! any interface" is "! +".
  if (rule.vianame !== '' || rule.invflg & INV.VIA)
    words.push('-i', ...not(INV.VIA), rule.vianame + (rule.flg & F.WILDIF ? '+' : ''))
  if (rule.proto !== 0 || rule.invflg & INV.PROTO) words.push('-p', ...not(INV.PROTO), `${rule.proto}`)
  if (rule.label !== '') words.push('-j', rule.label, ...(rule.redirpt ? [`${rule.redirpt}`] : []))
  if (rule.flg & F.PRN) words.push('-l')
  if (rule.flg & F.TCPSYN) words.push(...not(INV.SYN), '-y')
  if (rule.flg & F.FRAG) words.push(...not(INV.FRAG), '-f')
  if (rule.flg & F.MARKABS) words.push('-m', `0x${rule.mark.toString(16)}`)
  else if (rule.mark !== 0) words.push('-m', `+0x${rule.mark.toString(16)}`)
  if (rule.flg & F.NETLINK) words.push('-o', ...(rule.outputsize !== 0xffff ? [`${rule.outputsize}`] : []))
  if (rule.tosand !== 0xff || rule.tosxor !== 0) words.push('-t', hexByte(rule.tosand), hexByte(rule.tosxor))
  return words
}

const hexByte = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`

export const savedRuleLine = (chain: string, rule: Rule): string => ['-A', chain, ...savedRuleWords(rule)].join(' ')

const headerLine = (chain: Chain): string => `:${chain.name} ${chain.policy ?? '-'}\n`

/** input, output, forward (sic), then the user chains in kernel order. */
const savingOrder = (chains: readonly Chain[]): Chain[] =>
  ['input', 'output', 'forward']
    .flatMap((name) => chains.filter((c) => c.name === name))
    .concat(chains.filter((c) => !isBuiltin(c.name)))

/** What ipchains-save prints for the given chains (all when `only` is undefined). */
export const saveChains = (state: State, only: string | undefined, verbose: boolean): Output[] => {
  const chains = state.chains.filter((c) => only === undefined || c.name === only)
  const output: Output[] = chains.map((c) => ({ stream: 'out', text: headerLine(c) }))
  for (const chain of savingOrder(chains)) {
    output.push({ stream: 'err', text: `Saving \`${chain.name}'.\n` })
    for (const { rule } of chain.entries) {
      const line = `${savedRuleLine(chain.name, rule)}\n`
      output.push({ stream: 'out', text: line })
      if (verbose) output.push({ stream: 'err', text: line })
    }
  }
  return output
}
