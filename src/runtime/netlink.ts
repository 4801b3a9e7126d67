// The runtime's one NETLINK_NETFILTER socket. Node has no AF_NETLINK, so the
// socket is made by perl (perl-base, Essential on Debian: no compiler, no
// npm addon) which then execs node with it inherited (docs/decisions.md).
// perl also connects the syslog socket (Node has no unix datagram sockets):
// a datagram one, else a stream one, as syslog(3) tries them.
// Every consumer (NFLOG here) binds its subsystem on this socket and gets
// its messages from the one read loop.
import { closeSync, read, writeSync } from 'node:fs'
import { type NetlinkMessage, netlinkMessages } from '../translate/packetlog/netlink.ts'

const FDS_ENV = 'LFW_NETLINK_FDS'

// SO_RCVTIMEO: a blocked read returns EAGAIN every 250 ms, so the process
// can exit while a read waits in the thread pool. The receive buffer holds
// bursts while a line is written (SO_RCVBUFFORCE, 8 MiB).
const PERL = `
use strict; use Socket;
$^F = 255;
my ($path, @cmd) = @ARGV;
socket(my $nl, 16, SOCK_RAW, 12) or die "legacyfw runtime: netlink socket: $!\\n";
bind($nl, pack("SSLL", 16, 0, 0, 0)) or die "legacyfw runtime: netlink bind: $!\\n";
setsockopt($nl, SOL_SOCKET, SO_RCVTIMEO, pack("l!l!", 0, 250000));
setsockopt($nl, SOL_SOCKET, 33, pack("i", 8 << 20));
my ($log, $logfd, $kind) = (undef, -1, "dgram");
for my $type (SOCK_DGRAM, SOCK_STREAM) {
  if (socket($log, AF_UNIX, $type, 0) && connect($log, pack_sockaddr_un($path))) { $logfd = fileno($log); last }
  $kind = "stream";
}
$ENV{${FDS_ENV}} = fileno($nl) . " " . $logfd . " " . $kind;
exec { $cmd[0] } @cmd or die "legacyfw runtime: exec: $!\\n";
`

/** The command line starting `argv` with the sockets open: perl opens them and execs `argv`. */
export const withNetfilterSockets = (syslogPath: string, argv: readonly string[]): string[] => ['perl', '-e', PERL, syslogPath, ...argv]

/**
 * What serves one netfilter subsystem in the runtime (NFLOG: packet-log.ts).
 * Each gets every datagram's messages and ignores those of the others (its
 * requests carry sequence numbers of its own).
 */
export interface NetlinkConsumer {
  readonly consume: (messages: NetlinkMessage[]) => void
  /** Does an owned table hold anything for it to serve? (The last look before the runtime ends.) */
  readonly needed: () => boolean
  /**
   * Called every few seconds while the runtime runs: brings what it keeps
   * up to date and says whether it is still needed, without blocking
   * (queued packets wait on this process).
   */
  readonly refresh: () => Promise<boolean>
}

export interface NetfilterSockets {
  readonly netlink: number
  /** The connected syslog socket, or undefined when none could be connected. */
  readonly syslog: number | undefined
  /** A stream socket (as syslog(3), tried when a datagram one is refused): each message ends with a NUL. */
  readonly syslogStream: boolean
}

/** The sockets perl opened for this process, or undefined if it was not started through perl. */
export const inheritedSockets = (): NetfilterSockets | undefined => {
  const [netlinkText, syslogText, kind] = (process.env[FDS_ENV] ?? '').split(' ')
  const [netlink, syslog] = [netlinkText, syslogText].map(Number)
  if (netlink === undefined || !Number.isInteger(netlink) || netlink < 0) return undefined
  delete process.env[FDS_ENV]
  return { netlink, syslog: syslog !== undefined && syslog >= 0 ? syslog : undefined, syslogStream: kind === 'stream' }
}

export const sendNetlink = (fd: number, message: Uint8Array): void => {
  writeSync(fd, message)
}

/**
 * Reads the socket until `stop` returns true, handing each datagram's
 * messages to `consume`; then calls `stopped` (no read is pending: closing
 * the socket now releases what it bound at once). A full receive buffer
 * (ENOBUFS) means the kernel dropped messages (never packets): reading goes on.
 */
export const readNetlink = (fd: number, consume: (messages: NetlinkMessage[]) => void, stop: () => boolean, stopped: () => void): void => {
  const buf = Buffer.alloc(1 << 17)
  const next = (): void => {
    if (stop()) return stopped()
    read(fd, buf, 0, buf.length, null, (err, n) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'ENOBUFS' && code !== 'EAGAIN' && code !== 'EINTR') throw err
      } else consume(netlinkMessages(buf.subarray(0, n)))
      next()
    })
  }
  next()
}

export const closeSocket = (fd: number): void => {
  try {
    closeSync(fd)
  } catch {
    // already closed
  }
}
