// ipchains -h and -h icmp, verbatim (tabs, typos and all).
import { ICMP_NAMES } from './icmp.ts'
import { PACKAGE_VERSION } from './messages.ts'

export const helpText = (p: string): string => `${PACKAGE_VERSION}

Usage: ${p} -[ADC] chain rule-specification [options]
       ${p} -[RI] chain rulenum rule-specification [options]
       ${p} -D chain rulenum [options]
       ${p} -[LFZNX] [chain] [options]
       ${p} -P chain target [options]
       ${p} -M [ -L | -S ] [options]
       ${p} -h [icmp] (print this help information, or ICMP list)

Commands:
Either long or short options are allowed.
  --add     -A chain\t\tAppend to chain
  --delete  -D chain\t\tDelete matching rule from chain
  --delete  -D chain rulenum
\t\t\t\tDelete rule rulenum (1 = first) from chain
  --insert  -I chain [rulenum]
\t\t\t\tInsert in chain as rulenum (default 1=first)
  --replace -R chain rulenum
\t\t\t\tReplace rule rulenum (1 = first) in chain
  --list    -L [chain]\t\tList the rules in a chain or all chains
  --flush   -F [chain]\t\tDelete all rules in  chain or all chains
  --zero    -Z [chain]\t\tZero counters in chain or all chains
  --check   -C chain\t\tTest this packet on chain
  --new     -N chain\t\tCreate a new user-defined chain
  --delete-chain
            -X chain\t\tDelete a user-defined chain
  --policy  -P chain target
\t\t\t\tChange policy on chain to target
  --masquerade -M -L\t\tList current masqerading connections
  --set\t-M -S tcp tcpfin udp
\t\t\t\tSet masquerading timeout values

Options:
  --bidirectional -b\t\tinsert two rules: one with -s & -d reversed
  --proto\t-p [!] proto\tprotocol: by number or name, eg. \`tcp'
  --source\t-s [!] address[/mask] [!] [port[:port]]
\t\t\t\tsource specification
  --source-port [!] [port[:port]]
\t\t\t\tsource port specification
  --destination -d [!] address[/mask] [!] [port[:port]]
\t\t\t\tdestination specification
  --destination-port [!] [port[:port]]
\t\t\t\tdestination port specification
  --icmp-type [!] typename\tspecify ICMP type
  --interface\t-i [!] name[+]
\t\t\t\tnetwork interface name ([+] for wildcard)
  --jump\t-j target [port]
\t\t\t\ttarget for rule ([port] for REDIRECT)
  --mark\t-m [+-]mark\tnumber to mark on matching packet
  --numeric\t-n\t\tnumeric output of addresses and ports
  --log\t\t-l\t\tturn on kernel logging for matching packets
  --output\t-o [maxsize]\toutput matching packet to netlink device
  --TOS\t\t-t and xor\tand/xor masks for TOS field
  --verbose\t-v\t\tverbose mode
  --exact\t-x\t\texpand numbers (display exact values)
[!] --fragment\t-f\t\tmatch second or further fragments only
[!] --syn\t-y\t\tmatch TCP packets only when SYN set
[!] --version\t-V\t\tprint package version.
`

/** Names with the same type and code range as their predecessor are aliases. */
export const icmpHelpText = (): string => {
  let text = `${PACKAGE_VERSION}\n\nValid ICMP Types:`
  ICMP_NAMES.forEach((icmp, i) => {
    const previous = ICMP_NAMES[i - 1]
    if (previous && previous.type === icmp.type) {
      const alias = previous.codeMin === icmp.codeMin && previous.codeMax === icmp.codeMax
      text += alias ? ` (${icmp.name})` : `\n   ${icmp.name}`
    } else {
      text += `\n${icmp.name}`
    }
  })
  return `${text}\n`
}
