// What net-tools 1.54 (the 2.2-era ifconfig, route and netstat) read from the
// kernel, as pure data: filled from modern `ip -j` output by ip-json.ts and
// printed by ifconfig.ts and route.ts.

/** The hardware types the 2.2 userland names; anything else prints as UNSPEC. */
export type LinkType = 'ether' | 'loopback' | 'ppp' | 'other'

/** The interface flags ifconfig prints, in its order (ife_print). */
export const IF_FLAGS = [
  'UP',
  'BROADCAST',
  'DEBUG',
  'LOOPBACK',
  'POINTOPOINT',
  'NOTRAILERS',
  'RUNNING',
  'NOARP',
  'PROMISC',
  'ALLMULTI',
  'SLAVE',
  'MASTER',
  'MULTICAST',
  'DYNAMIC',
] as const

export type IfFlag = (typeof IF_FLAGS)[number]

/** One IPv4 address as the SIOCGIF* ioctls report it (host-order numbers). */
export interface Ipv4Address {
  readonly local: number
  /** ifa_address: the peer on point-to-point links, else the local address. */
  readonly peer: number
  readonly mask: number
  /** 0 when the address has none. */
  readonly broadcast: number
}

/** A /proc/net/dev row, folded the way the kernel folds it. */
export interface DeviceStats {
  readonly rxPackets: number
  readonly rxErrors: number
  readonly rxDropped: number
  readonly rxOverruns: number
  readonly rxFrame: number
  readonly txPackets: number
  readonly txErrors: number
  readonly txDropped: number
  readonly txOverruns: number
  readonly txCarrier: number
  readonly collisions: number
}

/** A device, or an alias (eth0:0: a labelled address, sharing its device's link). */
export interface EraInterface {
  readonly name: string
  readonly linkType: LinkType
  /** Hardware address bytes; [] when the link has none. */
  readonly hwAddress: readonly number[]
  readonly flags: readonly IfFlag[]
  readonly mtu: number
  /** 0 prints as 1, as the kernel keeps metric 0 for "default". */
  readonly metric: number
  readonly txQueueLength: number
  readonly ipv4?: Ipv4Address
  /** Absent for aliases: /proc/net/dev lists devices only. */
  readonly stats?: DeviceStats
}

/** A /proc/net/route row. */
export interface EraRoute {
  readonly destination: number
  readonly gateway: number
  readonly mask: number
  /** unreachable and prohibit routes: RTF_REJECT. */
  readonly reject: boolean
  readonly metric: number
  /** "*" for routes without a device (the kernel's own spelling). */
  readonly iface: string
  readonly mtu: number
  readonly window: number
  readonly irtt: number
}

/** What a legacy command printed and its exit status. */
export interface CommandOutput {
  readonly stdout: string
  readonly stderr: string
  readonly status: number
}
