// Packet log tests: a private syslog socket the runtime writes to
// (LEGACYFW_SYSLOG), tcpdump captures in the gateway, and the old kernels'
// lines written out from a captured packet (independently of
// src/translate/packetlog: Buffer reads and the printf formats of 2.2's
// dump_packet and 2.0's ip_fw_chk as the spec gives them).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Lab, Place } from '../../src/runtime/lab.ts'

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
print("ready", flush=True)
while True:
    out.write(s.recv(65536) + b"\\n")
`

export interface SyslogSocket {
  readonly path: string
  /** The datagrams received so far, one per element. */
  readonly datagrams: () => string[]
  readonly stop: () => void
}

/** A unix datagram socket in `dir` recording what it receives (as /dev/log would). */
export const syslogSocket = (dir: string): Promise<SyslogSocket> => {
  const path = join(dir, 'log.sock')
  const file = join(dir, 'log.txt')
  const child = spawn('python3', ['-c', RECEIVER, path, file], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', () =>
      resolve({
        path,
        datagrams: () => (existsSync(file) ? readFileSync(file, 'latin1').split('\n').slice(0, -1) : []),
        stop: () => child.kill('SIGKILL'),
      }),
    )
    child.on('error', reject)
  })
}

export interface Capture {
  /** Stops tcpdump and returns the IP packets it saw, in order. */
  readonly packets: () => Promise<Buffer[]>
}

/** tcpdump on `iface` in `place`, writing a pcap file; resolves once it listens. */
export const capture = (lab: Lab, place: Place, iface: string, filter: string, file: string): Promise<Capture> => {
  const argv = lab.argv(place, ['tcpdump', '-i', iface, '-n', '--immediate-mode', '-U', '-w', file, filter])
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
  return new Promise((resolve, reject) => {
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (stderr.includes('listening on'))
        resolve({
          packets: () =>
            new Promise((done) => {
              child.on('close', () => done(pcapPackets(readFileSync(file))))
              setTimeout(() => child.kill('SIGINT'), 300)
            }),
        })
    })
    child.on('close', (code) => reject(new Error(`tcpdump ended (${code}): ${stderr}`)))
  })
}

/** The IP packets of a pcap file of an Ethernet link. */
export const pcapPackets = (pcap: Buffer): Buffer[] => {
  const out: Buffer[] = []
  for (let at = 24; at + 16 <= pcap.length;) {
    const incl = pcap.readUInt32LE(at + 8)
    const frame = pcap.subarray(at + 16, at + 16 + incl)
    if (frame.readUInt16BE(12) === 0x0800) out.push(Buffer.from(frame.subarray(14)))
    at += 16 + incl
  }
  return out
}

const addr = (ip: Buffer, at: number): string => `${ip[at]}.${ip[at + 1]}.${ip[at + 2]}.${ip[at + 3]}`
const X = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0')

/** What the old hook saw: the packet as captured, its TTL lowered by `ttlDrop` (forwarding). */
export interface Seen {
  readonly ip: Buffer
  readonly ttlDrop?: number
}

const fields = ({ ip, ttlDrop = 0 }: Seen) => {
  const ihl = (ip[0]! & 15) * 4
  const frag = ip.readUInt16BE(6)
  const options: string[] = []
  for (let at = 20; at < ihl; at += 4) options.push(` O=0x${X(ip.readUInt32LE(at), 8)}`)
  return {
    ihl,
    proto: ip[9]!,
    first: (frag & 0x1fff) === 0,
    frag,
    src: addr(ip, 12),
    dst: addr(ip, 16),
    rest: (f: number) =>
      ` L=${ip.readUInt16BE(2)} S=0x${X(ip[1]!, 2)} I=${ip.readUInt16BE(4)} F=0x${X(f, 4)} T=${ip[8]! - ttlDrop}${options.join('')}`,
  }
}

/** 2.2: "Packet log: CHAIN TARGET IFACE PROTO=%d SRC:%hu DST:%hu L=... [SYN ](#N)". */
export const expected22 = (chain: string, target: string, iface: string, num: number, seen: Seen): string => {
  const f = fields(seen)
  const { ip } = seen
  let sp = 65535
  let dp = 65535
  let syn = ''
  if (f.first && (f.proto === 6 || f.proto === 17)) {
    sp = ip.readUInt16BE(f.ihl)
    dp = ip.readUInt16BE(f.ihl + 2)
  }
  if (f.first && f.proto === 1) {
    sp = ip[f.ihl]!
    dp = ip[f.ihl + 1]!
  }
  if (f.first && f.proto === 6) {
    const flags = ip[f.ihl + 13]!
    if (flags & 2 && !(flags & 0x10) && !(flags & 4)) syn = 'SYN '
  }
  return `Packet log: ${chain} ${target} ${iface} PROTO=${f.proto} ${f.src}:${sp} ${f.dst}:${dp}${f.rest(f.frag)} ${syn}(#${num})`
}

/** 2.0: "IP fw-in deny IFACE TCP SRC:P DST:P L=..." (fragment word in i386 byte order). */
export const expected20 = (head: string, iface: string, seen: Seen): string => {
  const f = fields(seen)
  const { ip } = seen
  const ports = f.proto === 6 || f.proto === 17
  const port = (at: number) => (ports ? `:${f.first ? ip.readUInt16BE(f.ihl + at) : 65535}` : '')
  const kind = f.proto === 6 ? 'TCP' : f.proto === 17 ? 'UDP' : f.proto === 1 ? `ICMP/${f.first ? ip[f.ihl] : 255}` : `PROTO=${f.proto}`
  return `${head} ${iface} ${kind} ${f.src}${port(0)} ${f.dst}${port(2)}${f.rest(ip.readUInt16LE(6))}`
}

/** The line of a syslog datagram as the runtime sends it: "<6>Mmm dd hh:mm:ss kernel: LINE". */
export const kernelLine = (datagram: string): string | undefined => /^<6>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d kernel: (.*)$/.exec(datagram)?.[1]
