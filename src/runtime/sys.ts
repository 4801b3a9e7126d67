// Everything a legacy command touches besides the firewall: its streams,
// the terminal, /proc and /etc files, DNS.
import { closeSync, openSync, readFileSync, readSync, readlinkSync, writeSync } from 'node:fs'
import { type Dns, type Names, etcNames } from '../translate/common/names.ts'
import { addrToDotted, dottedToAddr } from '../translate/common/inet.ts'

export interface Sys {
  /** argv[0] as the legacy tool would print it. */
  readonly program: string
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  readonly stdinIsTty: () => boolean
  /** All of standard input. */
  readonly readStdin: () => string
  /** One line typed at the controlling terminal, or undefined without one. */
  readonly readTtyLine: () => string | undefined
  readonly readFile: (path: string) => string | undefined
  readonly names: () => Names
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

// node:dns is only loaded when a name is not in /etc/hosts (getBuiltinModule,
// not import(): the bundles run as vm scripts, which have no import()).
const dnsModule = (): typeof import('node:dns') => process.getBuiltinModule('node:dns')
const systemDns: Dns = {
  async lookup(name) {
    const dns = dnsModule()
    try {
      const found = await dns.promises.lookup(name, { all: true, family: 4 })
      return found.map((a) => dottedToAddr(a.address)).filter((a): a is number => a !== undefined)
    } catch {
      return undefined
    }
  },
  async reverse(addr) {
    const dns = dnsModule()
    const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 1 })
    try {
      return (await resolver.reverse(addrToDotted(addr)))[0]
    } catch {
      return undefined
    }
  },
}

// isatty(0) without loading node:tty (and with it node:net): a terminal is
// a /dev/pts or /dev/tty* device.
const stdinIsTerminal = (): boolean => {
  try {
    return /^\/dev\/(pts\/|tty|console)/.test(readlinkSync('/proc/self/fd/0'))
  } catch {
    return false
  }
}

// `read ANSWER < /dev/tty`: one line in canonical mode, without its newline.
const readTtyLine = (): string | undefined => {
  try {
    const fd = openSync('/dev/tty', 'r')
    try {
      const buffer = Buffer.alloc(1024)
      return buffer.toString('utf8', 0, readSync(fd, buffer)).split('\n')[0]
    } finally {
      closeSync(fd)
    }
  } catch {
    return undefined
  }
}

const writeAll = (fd: number, text: string): void => {
  const bytes = Buffer.from(text)
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done)
}

export const realSys = (program: string): Sys => {
  let names: Names | undefined
  return {
    program,
    out: (text) => writeAll(1, text),
    err: (text) => writeAll(2, text),
    stdinIsTty: stdinIsTerminal,
    readStdin: () => {
      try {
        return readFileSync(0, 'utf8')
      } catch {
        return ''
      }
    },
    readTtyLine,
    readFile: readText,
    names: () =>
      (names ??= etcNames(
        {
          services: () => readText('/etc/services') ?? '',
          protocols: () => readText('/etc/protocols') ?? '',
          networks: () => readText('/etc/networks') ?? '',
          hosts: () => readText('/etc/hosts') ?? '',
        },
        systemDns,
      )),
  }
}

/** Where a legacyfw subcommand writes. */
export interface Io {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}
