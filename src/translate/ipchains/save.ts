// ipchains-save (ipchains-scripts 1.1.2): the chains as a file of ipchains
// arguments. First a `:CHAIN POLICY` line per chain in kernel order (user
// chains get `-`, as /proc/net/ip_fwnames shows them), then, chain by chain
// in the order input, output, forward, user chains, one line per rule:
//     -A ippp0_ou -s 149.225.25.39/255.255.255.255 123:123 -d 0.0.0.0/0.0.0.0 123:123 -p 17 -j ACCEPT -l
// ``Saving `CHAIN'.`` goes to stderr for each chain, and with -v each rule too.
// See docs/decisions.md for the details the sources leave open.
import { addrToDotted } from '../common/inet.ts'
import { PROGRESS } from './messages.ts'
import { type Chain, type Rule, type State, isBuiltin } from './model.ts'
import { type Spelling, ruleWords } from './words.ts'

export interface Output {
  readonly stream: 'out' | 'err'
  readonly text: string
}

const SAVED: Spelling = {
  order: ['s', 'd', 'i', 'p', 'j', 'l', 'y', 'f', 'm', 'o', 't'],
  omitsAnywhere: false,
  address: (addr, mask) => `${addrToDotted(addr)}/${addrToDotted(mask)}`,
  ports: (range) => `${range[0]}:${range[1]}`,
  proto: (proto) => `${proto}`,
  name: (name) => name,
}

/** One rule in the argument syntax ipchains-save writes. */
export const savedRuleWords = (rule: Rule): string[] => ruleWords(rule, SAVED)

export const savedRuleLine = (chain: string, rule: Rule): string => ['-A', chain, ...savedRuleWords(rule)].join(' ')

const headerLine = (chain: Chain): string => `:${chain.name} ${chain.policy ?? '-'}\n`

/** input, output, forward (sic), then the user chains in kernel order. */
const savingOrder = (chains: readonly Chain[]): Chain[] =>
  ['input', 'output', 'forward'].flatMap((name) => chains.filter((c) => c.name === name)).concat(chains.filter((c) => !isBuiltin(c.name)))

/** What ipchains-save prints for the given chains (all when `only` is undefined). */
export const saveChains = (state: State, only: string | undefined, verbose: boolean): Output[] => {
  const chains = state.chains.filter((c) => only === undefined || c.name === only)
  const output: Output[] = chains.map((c) => ({ stream: 'out', text: headerLine(c) }))
  for (const chain of savingOrder(chains)) {
    output.push({ stream: 'err', text: PROGRESS.saving(chain.name) })
    for (const { rule } of chain.entries) {
      const line = `${savedRuleLine(chain.name, rule)}\n`
      output.push({ stream: 'out', text: line })
      if (verbose) output.push({ stream: 'err', text: line })
    }
  }
  return output
}
