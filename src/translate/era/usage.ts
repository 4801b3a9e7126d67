// The usage texts of net-tools 1.54 built with its config.in defaults (no
// IPv6, no SIOCSKEEPALIVE): ifconfig.c usage(), route.c usage() and
// lib/inet_sr.c usage(). The type lists are print_hwlist()/print_aflist().

/** print_hwlist()/print_aflist(): three "name (title) " entries a line. */
const typeList = (entries: readonly (readonly [string, string])[]): string =>
  entries.map(([name, title], i) => `${i === 0 ? '    ' : i % 3 === 0 ? '\n    ' : ''}${name} (${title}) `).join('') + '\n'

const HW_TYPES = [
  ['loop', 'Local Loopback'],
  ['slip', 'Serial Line IP'],
  ['cslip', 'VJ Serial Line IP'],
  ['slip6', '6-bit Serial Line IP'],
  ['cslip6', 'VJ 6-bit Serial Line IP'],
  ['adaptive', 'Adaptive Serial Line IP'],
  ['ether', 'Ethernet'],
  ['tr', '16/4 Mbps Token Ring'],
  ['ax25', 'AMPR AX.25'],
  ['netrom', 'AMPR NET/ROM'],
  ['tunnel', 'IPIP Tunnel'],
  ['ppp', 'Point-to-Point Protocol'],
  ['arcnet', 'ARCnet'],
  ['dlci', 'Frame Relay DLCI'],
  ['frad', 'Frame Relay Access Device'],
  ['irda', 'IrLAP'],
] as const

const ADDRESS_FAMILIES = [
  ['unix', 'UNIX Domain'],
  ['inet', 'DARPA Internet'],
  ['ax25', 'AMPR AX.25'],
  ['netrom', 'AMPR NET/ROM'],
  ['ipx', 'Novell IPX'],
  ['ddp', 'Appletalk DDP'],
] as const

/** The families with a routing table (print_aflist(1)): all but unix. */
const ROUTED_FAMILIES = ADDRESS_FAMILIES.filter(([name]) => name !== 'unix')

export const IFCONFIG_USAGE =
  'Usage:\n  ifconfig [-a] [-i] [-v] <interface> [[<AF>] <address>]\n' +
  '  [[-]broadcast [<address>]]  [[-]pointopoint [<address>]]\n' +
  '  [netmask <address>]  [dstaddr <address>]  [tunnel <address>]\n' +
  '  [hw <HW> <address>]  [metric <NN>]  [mtu <NN>]\n' +
  '  [[-]trailers]  [[-]arp]  [[-]allmulti]\n' +
  '  [multicast]  [[-]promisc]\n' +
  '  [mem_start <NN>]  [io_addr <NN>]  [irq <NN>]  [media <type>]\n' +
  '  [txqueuelen <NN>]\n' +
  '  [[-]dynamic]\n' +
  '  [up|down] ...\n\n' +
  '  <HW>=Hardware Type.\n' +
  '  List of possible hardware types:\n' +
  typeList(HW_TYPES) +
  '  <AF>=Address family. Default: inet\n' +
  '  List of possible address families:\n' +
  typeList(ADDRESS_FAMILIES)

export const ROUTE_USAGE =
  'Usage: route [-nNvee] [-FC] [<AF>]           List kernel routing tables\n' +
  '       route [-v] [-FC] {add|del|flush} ...  Modify routing table for AF.\n\n' +
  '       route {-h|--help} [<AF>]              Detailed usage syntax for specified AF.\n' +
  '       route {-V|--version}                  Display version/author and exit.\n\n' +
  '        -v, --verbose            be verbose\n' +
  '        -n, --numeric            dont resolve names\n' +
  '        -N, --symbolic           resolve hardware names\n' +
  '        -e, --extend             display other/more information\n' +
  '        -F, --fib                display Forwarding Information Base (default)\n' +
  '        -C, --cache              display routing cache instead of FIB\n\n' +
  "  <AF>=Use '-A <af>' or '--<af>' Default: inet\n" +
  '  List of possible address families (which support routing):\n' +
  typeList(ROUTED_FAMILIES)

export const INET_ROUTE_USAGE =
  'Usage: inet_route [-vF] del {-host|-net} Target[/prefix] [gw Gw] [metric M] [[dev] If]\n' +
  '       inet_route [-vF] add {-host|-net} Target[/prefix] [gw Gw] [metric M]\n' +
  '                              [netmask N] [mss Mss] [window W] [irtt I]\n' +
  '                              [mod] [dyn] [reinstate] [[dev] If]\n' +
  '       inet_route [-vF] add {-host|-net} Target[/prefix] [metric M] reject\n' +
  '       inet_route [-FC] flush      NOT supported\n'
