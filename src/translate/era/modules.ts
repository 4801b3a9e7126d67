// Module commands of the 2.0/2.2 firewall: which modules a modprobe,
// insmod or rmmod call names, and which of them belong to the firewall
// legacyfw provides (the old kernels' ipchains/ipfwadm/masquerading
// modules, and the netfilter ones modern kernels build in or load on
// demand). Pure: the tools decide what a call does (tools/modules.ts).
import { helperApp } from '../alg/model.ts'

/** What a firewall module is to legacyfw: a masquerading helper (translate/alg) is loaded into the helper table. */
export type FirewallModule = 'firewall' | 'masq-helper'

const FIREWALL =
  /^(ipchains|ipfwadm|ip_masq_\w+|ip_tables|x_tables|iptable_\w+|ipt_\w+|xt_\w+|ip_conntrack\w*|ip_nat_\w+|nf_\w+|nft_\w+|nf_tables)$/

/** The module's name as the kernel knows it: no directory, no .o/.ko suffix, "-" read as "_" (as modprobe does). */
export const moduleName = (word: string): string => (word.split('/').pop() ?? word).replace(/\.(o|ko)(\.(gz|xz|zst))?$/, '').replace(/-/g, '_')

/** The kind of firewall module `word` names, or undefined for any other module. */
export const firewallModule = (word: string): FirewallModule | undefined => {
  const name = moduleName(word)
  if (helperApp(name) !== undefined) return 'masq-helper'
  return FIREWALL.test(name) ? 'firewall' : undefined
}

/** Options of the era's modprobe/insmod that take a value (modutils 2.1-2.4). */
const VALUE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  modprobe: ['-C', '-t', '-T', '-o', '--config', '--type'],
  insmod: ['-o', '-O', '-P', '--name', '--persist', '--blob'],
  rmmod: [],
}

/**
 * The module words of a call: for modprobe the module (every word with -a
 * or -r, -l/-c list and name none), for insmod the module (the rest are
 * its parameters), for rmmod every word. Options and parameters are left
 * out; `rest` is the call without the module words.
 */
export const moduleWords = (tool: 'modprobe' | 'insmod' | 'rmmod', args: readonly string[]): { modules: string[]; rest: string[] } => {
  const modules: string[] = []
  const rest: string[] = []
  let all = tool === 'rmmod'
  let listing = false
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string
    if (word.startsWith('-') && modules.length === 0) {
      rest.push(word)
      if (VALUE_OPTIONS[tool]?.includes(word)) {
        rest.push(...args.slice(i + 1, i + 2))
        i++
      } else if (tool === 'modprobe' && /^-[a-zA-Z]*[ar]/.test(word)) all = true
      else if (tool === 'modprobe' && /^-[a-zA-Z]*[lc]/.test(word)) listing = true
      continue
    }
    if (!listing && (all || modules.length === 0)) modules.push(word)
    else rest.push(word)
  }
  return { modules, rest }
}
