// `ifconfig NAME ARGS...` as net-tools 1.54 ran it (ifconfig.c main) against
// the 2.2 kernel's devinet_ioctl(), mapped to `ip` commands. The address
// rules are 2.2's: SIOCSIFADDR gives a new address its classful netmask and
// broadcast, SIOCSIFNETMASK changes the mask but keeps the broadcast, and an
// alias (eth0:0) is a labelled address that "down" deletes.
import { addrToDotted, bitsToMask, inetAton, maskToBits } from '../common/inet.ts'
import type { EraInterface, Ipv4Address } from './model.ts'
import { IFCONFIG_USAGE } from './usage.ts'

/** The `ip` commands to run, what ifconfig printed itself, and its status. */
export interface IfconfigEdit {
  readonly ip: readonly (readonly string[])[]
  readonly stderr: string
  readonly status: number
}

const E_USAGE = 4

/** inet_abc_len(): the classful prefix, 0 for 0.x.x.x, -1 for class D/E. */
const classfulBits = (addr: number): number => {
  if (addr >>> 24 === 0) return 0
  if (addr >>> 31 === 0) return 8
  if (addr >>> 30 === 2) return 16
  if (addr >>> 29 === 6) return 24
  return -1
}

/** The link switches that map one to one onto `ip link set`. */
const LINK_SWITCHES: Record<string, readonly string[]> = {
  arp: ['arp', 'on'],
  '-arp': ['arp', 'off'],
  promisc: ['promisc', 'on'],
  '-promisc': ['promisc', 'off'],
  allmulti: ['allmulti', 'on'],
  '-allmulti': ['allmulti', 'off'],
  multicast: ['multicast', 'on'],
  '-multicast': ['multicast', 'off'],
}

/** The link settings with a value: ifconfig keyword to `ip link set` keyword. */
const LINK_VALUES: Record<string, string> = { mtu: 'mtu', txqueuelen: 'txqueuelen' }

interface Run {
  address: Ipv4Address | undefined
  readonly link: string[][]
  stderr: string
  status: number
  upAfter: boolean
}

/** SIOCSIFADDR on 2.2 (devinet_ioctl). */
const setAddress = (run: Run, device: EraInterface, local: number): void => {
  const bits = classfulBits(local)
  if (bits < 0) {
    run.stderr += 'SIOCSIFADDR: Invalid argument\n'
    run.status = 1
    return
  }
  if (run.address?.local === local) return
  // An address of 0 is removed rather than set (inet_insert_ifa).
  if (local === 0) {
    run.address = undefined
    return
  }
  if (device.flags.includes('POINTOPOINT')) {
    // A new address gets a zero mask, a replaced one /32.
    run.address = { local, peer: local, mask: run.address === undefined ? 0 : 0xffffffff, broadcast: 0 }
    return
  }
  const mask = bitsToMask(bits)
  const broadcast = device.flags.includes('BROADCAST') && bits < 31 ? (local | ~mask) >>> 0 : 0
  run.address = { local, peer: local, mask, broadcast }
}

/** The SIOCSIF* calls that need an address already there. */
const changeAddress = (run: Run, call: string, change: (a: Ipv4Address) => Ipv4Address | string): void => {
  if (run.address === undefined) {
    run.stderr += `${call}: Cannot assign requested address\n`
    run.status = 1
    return
  }
  const changed = change(run.address)
  if (typeof changed === 'string') {
    run.stderr += `${call}: ${changed}\n`
    run.status = 1
  } else {
    run.address = changed
  }
}

const sameAddress = (a: Ipv4Address | undefined, b: Ipv4Address | undefined): boolean =>
  a?.local === b?.local && a?.peer === b?.peer && a?.mask === b?.mask && a?.broadcast === b?.broadcast

/** Replacing an address: drop the label's address, add the new one under the label. */
const addressCommands = (device: string, label: string, before: Ipv4Address | undefined, after: Ipv4Address | undefined) => {
  if (sameAddress(before, after)) return []
  const flush = before === undefined ? [] : [['ip', 'addr', 'flush', 'dev', device, 'label', label]]
  if (after === undefined) return flush
  const add = ['ip', 'addr', 'add', `${addrToDotted(after.local)}/${maskToBits(after.mask) ?? 32}`]
  if (after.peer !== after.local) add.push('peer', addrToDotted(after.peer))
  if (after.broadcast !== 0) add.push('broadcast', addrToDotted(after.broadcast))
  add.push('dev', device, 'label', label)
  return [...flush, add]
}

const usageExit = (stderr: string): IfconfigEdit => ({ ip: [], stderr: stderr + IFCONFIG_USAGE, status: E_USAGE })

/**
 * `ifconfig NAME ARGS...` given the interfaces as they are. Like ifconfig,
 * it goes on after a failed step and exits 1; bad syntax prints the usage
 * and exits 4 before anything changes.
 */
export const ifconfigEdit = (ifaces: readonly EraInterface[], name: string, args: readonly string[]): IfconfigEdit => {
  const label = name.slice(0, 15)
  const deviceName = label.split(':')[0] ?? label
  const isAlias = deviceName !== label
  const device = ifaces.find((iface) => iface.name === deviceName)
  const before = ifaces.find((iface) => iface.name === label)?.ipv4
  if (device === undefined) {
    // SIOCSIFADDR fails first when an address is set, then set_flag()'s SIOCGIFFLAGS.
    const setsAddress = args.some((arg) => inetAton(arg.split('/')[0] ?? '') !== undefined)
    const stderr = `${setsAddress ? 'SIOCSIFADDR: No such device\n' : ''}${label}: unknown interface: No such device\n`
    return { ip: [], stderr, status: 1 }
  }
  const run: Run = { address: before, link: [], stderr: '', status: 0, upAfter: false }
  for (let i = 0; i < args.length; i++) {
    const word = args[i] ?? ''
    const value = args[i + 1]
    const switchArgs = LINK_SWITCHES[word]
    if (switchArgs !== undefined) {
      run.link.push(['ip', 'link', 'set', 'dev', deviceName, ...switchArgs])
      continue
    }
    const linkKeyword = LINK_VALUES[word]
    if (linkKeyword !== undefined) {
      if (value === undefined) return usageExit('')
      run.link.push(['ip', 'link', 'set', 'dev', deviceName, linkKeyword, String(parseInt(value, 10) || 0)])
      i++
      continue
    }
    switch (word) {
      case 'up':
        // SIOCSIFFLAGS on an alias only ever deletes; on a device it brings the link up.
        if (!isAlias) run.link.push(['ip', 'link', 'set', 'dev', deviceName, 'up'])
        continue
      case 'down':
        if (isAlias) run.address = undefined
        else run.link.push(['ip', 'link', 'set', 'dev', deviceName, 'down'])
        continue
      case 'netmask': {
        if (value === undefined) return usageExit('')
        const mask = inetAton(value)
        if (mask === undefined) return usageExit(`${value}: Unknown host\n`)
        changeAddress(run, 'SIOCSIFNETMASK', (a) => (maskToBits(mask) === undefined ? 'Invalid argument' : { ...a, mask }))
        // goterr = set_netmask(), which always returns 0: earlier failures are forgotten.
        run.status = 0
        i++
        continue
      }
      case 'broadcast':
      case 'pointopoint':
      case 'dstaddr': {
        if (value === undefined) {
          if (word === 'dstaddr') return usageExit('')
          continue
        }
        const addr = inetAton(value)
        if (addr === undefined) {
          run.stderr += `${value}: Unknown host\n`
          run.status = 1
        } else if (word === 'broadcast') {
          changeAddress(run, 'SIOCSIFBRDADDR', (a) => ({ ...a, broadcast: addr }))
        } else {
          changeAddress(run, 'SIOCSIFDSTADDR', (a) => (classfulBits(addr) < 0 ? 'Invalid argument' : { ...a, peer: addr }))
        }
        i++
        continue
      }
      case 'hw': {
        if (value !== 'ether' || args[i + 2] === undefined) return usageExit('')
        run.link.push(['ip', 'link', 'set', 'dev', deviceName, 'address', args[i + 2] ?? ''])
        i += 2
        continue
      }
    }
    // Anything else is an address, with an optional /prefix set first.
    const [text = '', prefix] = word.split('/')
    const local = inetAton(text)
    if (local === undefined) return usageExit(`${text}: Unknown host\n`)
    if (prefix !== undefined) {
      const bits = Number(prefix)
      changeAddress(run, 'SIOCSIFNETMASK', (a) => ({ ...a, mask: bitsToMask(Math.min(32, bits)) }))
    }
    setAddress(run, device, local)
    // Setting an address brings the device up, except on an alias ending in '-'.
    if (!(isAlias && label.endsWith('-'))) run.upAfter = true
  }
  const up = run.upAfter && !isAlias ? [['ip', 'link', 'set', 'dev', deviceName, 'up']] : []
  return {
    ip: [...addressCommands(deviceName, label, before, run.address), ...run.link, ...up],
    stderr: run.stderr,
    status: run.status,
  }
}
