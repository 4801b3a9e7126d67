// ipfwadm -h, verbatim (tabs, the "masuerading" typo and the doubled ')').
import { PACKAGE_VERSION } from './messages.ts'

export const helpText = (p: string): string => `${PACKAGE_VERSION}

Usage: ${p} -A [direction] command [options] (accounting)
       ${p} -F command [options] (forwarding firewall)
       ${p} -I command [options] (input firewall)
       ${p} -O command [options] (output firewall)
       ${p} -M [-s | -l] [options] (masquerading entries)
       ${p} -h (print this help information))

Commands:
  -i [policy]\tinsert rule (no policy for accounting rules)
  -a [policy]\tappend rule (no policy for accounting rules)
  -d [policy]\tdelete rule (no policy for accounting rules)
  -l\t\tlist all rules of this category
  -z\t\treset packet/byte counters of all rules of this category
  -f\t\tremove all rules of this category
  -p policy\tchange default policy (accept/deny/reject)
  -s tcp tcpfin udp
\t\tset masuerading timeout values
  -c\t\tcheck acceptance of IP packet

Options:
  -P\t\tprotocol (either tcp, udp, icmp, or all)
  -S address[/mask] [port ...]
\t\tsource specification
  -D address[/mask] [port ...]
\t\tdestination specification
  -V address\tnetwork interface address
  -W name\tnetwork interface name
  -b\t\tbidirectional match
  -e\t\textended output mode
  -k\t\tmatch TCP packets only when ACK set
  -m\t\tmasquerade packets as coming from local host
  -n\t\tnumeric output of addresses and ports
  -o\t\tturn on kernel logging for matching packets
  -r [port]\tredirect packets to local port (transparent proxying)
  -t and xor\tand/xor masks for TOS field
  -v\t\tverbose mode
  -x\t\texpand numbers (display exact values)
  -y\t\tmatch TCP packets only when SYN set and ACK cleared
`
