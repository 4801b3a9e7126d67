// Packet log lines as Linux 2.2 (ipchains -l) and 2.0 (ipfwadm -o) printed
// them: real packets through the lab gateway, the runtime the tools start
// writing to a private syslog socket (LEGACYFW_SYSLOG), each line compared
// byte for byte with the line written out from the packet tcpdump captured
// where the old hook saw it (input: as it arrived; forward: as it arrived,
// TTL lowered; output: as it left, masqueraded).
import t from 'tap'
import { residentListed } from '../src/runtime/resident.ts'
import { RUNTIME_SOCKET } from '../src/runtime/runtime.ts'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GW_WAN, type Lab, WAN, withLab } from './helpers/lab.ts'
import { inNetns, requireRootAndNft, withNetns, withoutTapLoader } from './helpers/netns.ts'
import { type SyslogSocket, capture, expected20, expected22, kernelLine, syslogSocket } from './helpers/packetlog.ts'

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]
const tcpFlags = (ip: Buffer): number => ip[(ip[0]! & 15) * 4 + 13]!

// A UDP datagram from wan to the gateway with a record-route IP option (8 option bytes).
const WITH_OPTIONS = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([7, 7, 4, 0, 0, 0, 0, 1]))
s.sendto(b"options", ("${GW_WAN}", 5000))
`

interface Watch {
  readonly iface: 'wan0' | 'lan0'
  readonly filter: string
}

interface Scenario {
  readonly name: string
  readonly rules: readonly (readonly string[])[]
  readonly traffic: (lab: Lab) => Promise<unknown>
  readonly watch: readonly Watch[]
  /** The lines the packets captured (by watch, in order) make, in the order they are logged. */
  readonly lines: (captured: readonly Buffer[][]) => string[]
}

const flushAll = (lab: Lab): void => {
  for (const args of [['-F'], ['-X'], ['-P', 'input', 'ACCEPT'], ['-P', 'forward', 'ACCEPT']]) lab.ipchains(...args)
  for (const c of ['-I', '-O', '-F', '-A']) lab.ipfwadm(c, '-f')
}

const runtimeRunning = (lab: Lab): boolean => residentListed(lab.exec('gw', ['cat', '/proc/net/unix']).stdout, RUNTIME_SOCKET)

const waitFor = async (what: () => boolean, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (what()) return true
  return what()
}

const tool = (lab: Lab, argv: readonly string[]) => {
  const [name, ...args] = argv
  const r = name === 'ipfwadm' ? lab.ipfwadm(...args) : lab.ipchains(...args)
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
}

const ipchainsScenarios: Scenario[] = [
  {
    name: 'ipchains input DENY of SYNs, the rule second after an insert (SYN, #2)',
    rules: [
      ['ipchains', '-A', 'input', '-i', 'wan0', '-p', 'tcp', '-d', '0/0', '23', '-y', '-j', 'DENY', '-l'],
      ['ipchains', '-I', 'input', '1', '-p', 'udp', '-j', 'ACCEPT'],
    ],
    traffic: async (lab) => {
      await lab.rawTcp('wan', { src: WAN, dst: GW_WAN, sport: 1025, dport: 23, flags: 'S', count: 2 })
      await lab.rawTcp('wan', { src: WAN, dst: GW_WAN, sport: 1026, dport: 23, flags: 'A' })
    },
    watch: [{ iface: 'wan0', filter: `tcp and dst port 23 and src host ${WAN}` }],
    lines: ([wan]) => wan!.filter((p) => tcpFlags(p) & 2).map((ip) => expected22('input', 'DENY', 'wan0', 2, { ip })),
  },
  {
    name: 'ipchains: the same rule first once the insert is deleted (#1)',
    rules: [
      ['ipchains', '-A', 'input', '-i', 'wan0', '-p', 'tcp', '-d', '0/0', '23', '-y', '-j', 'DENY', '-l'],
      ['ipchains', '-I', 'input', '1', '-p', 'udp', '-j', 'ACCEPT'],
      ['ipchains', '-D', 'input', '1'],
    ],
    traffic: (lab) => lab.rawTcp('wan', { src: WAN, dst: GW_WAN, sport: 1027, dport: 23, flags: 'S' }),
    watch: [{ iface: 'wan0', filter: `tcp and dst port 23 and src host ${WAN}` }],
    lines: ([wan]) => wan!.map((ip) => expected22('input', 'DENY', 'wan0', 1, { ip })),
  },
  {
    name: 'ipchains user chain: a jump (target = chain), no target (-), RETURN; ICMP type and code as ports',
    rules: [
      ['ipchains', '-N', 'wanin'],
      ['ipchains', '-A', 'input', '-i', 'wan0', '-p', 'icmp', '-j', 'wanin', '-l'],
      ['ipchains', '-A', 'wanin', '-p', 'icmp', '-l'],
      ['ipchains', '-A', 'wanin', '-p', 'icmp', '-j', 'RETURN', '-l'],
    ],
    traffic: async (lab) => {
      await lab.ping('wan', GW_WAN)
      await lab.ping('wan', GW_WAN)
    },
    watch: [{ iface: 'wan0', filter: `icmp and src host ${WAN}` }],
    lines: ([wan]) =>
      wan!.flatMap((ip) => [
        expected22('input', 'wanin', 'wan0', 1, { ip }),
        expected22('wanin', '-', 'wan0', 1, { ip }),
        expected22('wanin', 'RETURN', 'wan0', 2, { ip }),
      ]),
  },
  {
    name: 'ipchains REDIRECT with its port',
    rules: [['ipchains', '-A', 'input', '-i', 'wan0', '-p', 'tcp', '-d', '0/0', '80', '-j', 'REDIRECT', '8080', '-l']],
    traffic: (lab) => lab.tcp('wan', GW_WAN, 80, { timeout: 1 }),
    watch: [{ iface: 'wan0', filter: `tcp and dst port 80 and src host ${WAN}` }],
    lines: ([wan]) => wan!.map((ip) => expected22('input', 'REDIRECT 8080', 'wan0', 1, { ip })),
  },
  {
    name: 'ipchains REJECT of a datagram with IP options (O=0x...)',
    rules: [['ipchains', '-A', 'input', '-i', 'wan0', '-p', 'udp', '-d', '0/0', '5000', '-j', 'REJECT', '-l']],
    traffic: async (lab) => lab.exec('wan', ['python3', '-c', WITH_OPTIONS]),
    watch: [{ iface: 'wan0', filter: `udp and dst port 5000` }],
    lines: ([wan]) => wan!.map((ip) => expected22('input', 'REJECT', 'wan0', 1, { ip })),
  },
  {
    name: 'ipchains forward MASQ (outgoing interface, TTL lowered, lan source) and output (masqueraded source)',
    rules: [
      ['ipchains', '-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ', '-l'],
      ['ipchains', '-A', 'output', '-i', 'wan0', '-p', 'udp', '-j', 'ACCEPT', '-l'],
    ],
    traffic: async (lab) => {
      await lab.udp('lan', WAN, 9999, { timeout: 1, count: 2 })
    },
    watch: [
      { iface: 'lan0', filter: 'udp and dst port 9999' },
      { iface: 'wan0', filter: 'udp and dst port 9999' },
    ],
    lines: ([lan, wan]) =>
      lan!.flatMap((ip, i) => [
        expected22('forward', 'MASQ', 'wan0', 1, { ip, ttlDrop: 1 }),
        expected22('output', 'ACCEPT', 'wan0', 1, { ip: wan![i]! }),
      ]),
  },
]

const ipfwadmScenarios: Scenario[] = [
  {
    name: 'ipfwadm input deny, rej and acc; TCP, UDP and ICMP/type',
    rules: [
      ['ipfwadm', '-I', '-a', 'deny', '-W', 'wan0', '-P', 'tcp', '-D', '0/0', '23', '-o'],
      ['ipfwadm', '-I', '-a', 'reject', '-W', 'wan0', '-P', 'udp', '-D', '0/0', '5000', '-o'],
      ['ipfwadm', '-I', '-a', 'accept', '-W', 'wan0', '-P', 'icmp', '-o'],
    ],
    traffic: async (lab) => {
      await lab.rawTcp('wan', { src: WAN, dst: GW_WAN, sport: 1030, dport: 23, flags: 'S' })
      await lab.udp('wan', GW_WAN, 5000, { timeout: 1 })
      await lab.ping('wan', GW_WAN)
    },
    watch: [{ iface: 'wan0', filter: `src host ${WAN} and (icmp or dst port 23 or dst port 5000)` }],
    lines: ([wan]) => wan!.map((ip) => expected20(ip[9] === 6 ? 'IP fw-in deny' : ip[9] === 17 ? 'IP fw-in rej' : 'IP fw-in acc', 'wan0', { ip })),
  },
  {
    name: 'ipfwadm input redirect (acc/r8080) and incoming accounting (IP acct in)',
    rules: [
      ['ipfwadm', '-A', 'in', '-a', '-P', 'tcp', '-W', 'wan0', '-o'],
      ['ipfwadm', '-I', '-a', 'accept', '-r', '8080', '-P', 'tcp', '-W', 'wan0', '-D', '0/0', '80', '-o'],
    ],
    traffic: (lab) => lab.rawTcp('wan', { src: WAN, dst: GW_WAN, sport: 1031, dport: 80, flags: 'S' }),
    watch: [{ iface: 'wan0', filter: `tcp and src host ${WAN}` }],
    lines: ([wan]) => wan!.flatMap((ip) => [expected20('IP acct in', 'wan0', { ip }), expected20('IP fw-in acc/r8080', 'wan0', { ip })]),
  },
  {
    name: 'ipfwadm forward acc/masq, output acc of the masqueraded datagram, outgoing accounting',
    rules: [
      ['ipfwadm', '-F', '-a', 'masquerade', '-S', '192.168.1.0/24', '-o'],
      ['ipfwadm', '-O', '-a', 'accept', '-W', 'wan0', '-P', 'udp', '-o'],
      ['ipfwadm', '-A', 'out', '-a', '-P', 'udp', '-W', 'wan0', '-o'],
    ],
    traffic: (lab) => lab.udp('lan', WAN, 9999, { timeout: 1, count: 2 }),
    watch: [
      { iface: 'lan0', filter: 'udp and dst port 9999' },
      { iface: 'wan0', filter: 'udp and dst port 9999' },
    ],
    lines: ([lan, wan]) =>
      lan!.flatMap((ip, i) => [
        expected20('IP fw-fwd acc/masq', 'wan0', { ip, ttlDrop: 1 }),
        expected20('IP fw-out acc', 'wan0', { ip: wan![i]! }),
        expected20('IP acct out', 'wan0', { ip: wan![i]! }),
      ]),
  },
]

const runScenario = async (t: TapTest, lab: Lab, log: SyslogSocket, dir: string, s: Scenario): Promise<string[]> => {
  flushAll(lab)
  // Each scenario sees the runtime end with the last logging rule and start with the first.
  // (Generous waits: the machine may be loaded.)
  t.ok(await waitFor(() => !runtimeRunning(lab), 10_000), `${s.name}: no runtime without logging rules`)
  for (const argv of s.rules) tool(lab, argv)
  t.ok(await waitFor(() => runtimeRunning(lab), 10_000), `${s.name}: the runtime runs`)
  await new Promise((r) => setTimeout(r, 300))
  const before = log.datagrams().length
  const captures = await Promise.all(s.watch.map((w, i) => capture(lab, 'gw', w.iface, w.filter, join(dir, `${i}.pcap`))))
  await s.traffic(lab)
  const captured = await Promise.all(captures.map((c) => c.packets()))
  const expected = s.lines(captured)
  await waitFor(() => log.datagrams().length >= before + expected.length, 5000)
  await new Promise((r) => setTimeout(r, 200))
  const datagrams = log.datagrams().slice(before)
  const lines = datagrams.map(kernelLine)
  t.ok(
    lines.every((l) => l !== undefined),
    `${s.name}: each datagram is <6>, a timestamp, "kernel: " and the line`,
    { datagrams },
  )
  t.ok(expected.length > 0, `${s.name}: packets captured`)
  t.strictSame(lines, expected, `${s.name}: the lines, byte for byte`)
  return datagrams
}

// psad 1.x style: what it took from an ipchains deny line.
const PSAD_IPCHAINS = /kernel: Packet log:\s+\S+\s+(?:DENY|REJECT)\s+(\S+)\s+PROTO=(\d+)\s+([\d.]+):(\d+)\s+([\d.]+):(\d+)/

// fwlogwatch's summary of an ipchains log (-P i), by source and destination port and protocol.
const fwlogwatch = (file: string): string => {
  const r = spawnSync('fwlogwatch', ['-P', 'i', '-d', '-p', '-s', file], { encoding: 'utf8' })
  if (r.error) throw r.error
  return r.stdout
}

const PROTO_NAMES: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp' }
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** fwlogwatch's summary line of each kind of line (chain, target, interface, protocol, addresses, ports), with its count. */
const summaryLines = (lines: readonly string[]): RegExp[] => {
  const counts = new Map<string, number>()
  for (const line of lines) {
    const m = /^Packet log: (\S+) (REDIRECT \d+|\S+) (\S+) PROTO=(\d+) ([\d.]+):(\d+) ([\d.]+):(\d+) /.exec(line)
    if (!m) continue
    const [, chain, target, iface, proto, from, sport, to, dport] = m as unknown as string[]
    // fwlogwatch abbreviates REDIRECT to RD; the interface is left out when all lines share it.
    const head = `${escape(chain!)} ${escape(target!.replace(/^REDIRECT/, 'RD'))}(?: ${escape(iface!)})?`
    const rest = `${PROTO_NAMES[proto!] ?? proto} packets? from ${escape(from!)} port ${sport} to ${escape(to!)} port ${dport}`
    const key = `${head}\0${rest}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([key, n]) => {
    const [head, rest] = key.split('\0')
    return new RegExp(`^${head} ${n} ${rest}$`, 'm')
  })
}

t.test('packet log lines of both tools from the runtime', { timeout: 180_000 }, async (t) => {
  const missing = requireRootAndNft()
  if (missing) return t.fail(missing)
  const dir = mkdtempSync(join(tmpdir(), 'lfw-plog-'))
  const log = await syslogSocket(dir)
  const saved = process.env['LEGACYFW_SYSLOG']
  process.env['LEGACYFW_SYSLOG'] = log.path
  try {
    await withLab(async (lab) => {
      const ipchainsDatagrams: string[] = []
      for (const s of ipchainsScenarios) ipchainsDatagrams.push(...(await runScenario(t, lab, log, dir, s)))
      for (const s of ipfwadmScenarios) await runScenario(t, lab, log, dir, s)

      // fwlogwatch reads the lines as syslog files them ("Mmm dd hh:mm:ss host kernel: ...").
      const file = join(dir, 'kern.log')
      writeFileSync(file, ipchainsDatagrams.map((d) => `${d.slice(3).replace(' kernel: ', ' gw kernel: ')}\n`).join(''))
      const summary = fwlogwatch(file)
      const denied = ipchainsDatagrams.filter((d) => / (DENY|REJECT) /.test(d)).length
      const n = ipchainsDatagrams.length
      t.match(
        summary,
        new RegExp(`^${n} of ${n} entries in the file "${escape(file)}" are packet logs`, 'm'),
        'fwlogwatch: every line a packet log',
        { summary },
      )
      const lines = ipchainsDatagrams.map((d) => kernelLine(d) ?? '')
      for (const line of summaryLines(lines)) t.match(summary, line, `fwlogwatch counts ${line.source}`)
      const psad = ipchainsDatagrams.map((d) => PSAD_IPCHAINS.exec(d)).filter((m) => m !== null)
      t.equal(psad.length, denied, 'a psad-style pattern matches every DENY/REJECT line')
      t.same(psad[0]?.slice(1), ['wan0', '6', WAN, '1025', GW_WAN, '23'], 'and reads interface, protocol, addresses and ports')

      flushAll(lab)
      t.ok(await waitFor(() => !runtimeRunning(lab), 10_000), 'the runtime ends when the last logging rule goes')
    })
  } finally {
    if (saved === undefined) delete process.env['LEGACYFW_SYSLOG']
    else process.env['LEGACYFW_SYSLOG'] = saved
    log.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

t.test('legacyfw runtime in the foreground (the service) serves until stopped', { timeout: 60_000 }, async (t) => {
  const missing = requireRootAndNft()
  if (missing) return t.fail(missing)
  const dir = mkdtempSync(join(tmpdir(), 'lfw-plog-'))
  const log = await syslogSocket(dir)
  const bin = (name: string) => join(import.meta.dirname, '..', 'bin', name)
  try {
    await withNetns('plog', async (ns) => {
      inNetns(ns, ['ip', 'link', 'set', 'lo', 'up'])
      const service = spawn('ip', ['netns', 'exec', ns, ...withoutTapLoader([bin('legacyfw'), 'runtime', '--syslog', log.path])], {
        stdio: 'ignore',
      })
      const exited = new Promise<number | null>((resolve) => service.on('exit', (code) => resolve(code)))
      const serving = () => residentListed(inNetns(ns, ['cat', '/proc/net/unix']).stdout, RUNTIME_SOCKET)
      t.ok(await waitFor(serving, 10_000), 'it serves')
      await new Promise((r) => setTimeout(r, 3000))
      t.equal(service.exitCode, null, 'still serving after 3 s without a logging rule')
      const add = inNetns(ns, ['env', `LEGACYFW_SYSLOG=${log.path}`, bin('ipchains'), '-A', 'input', '-i', 'lo', '-p', 'icmp', '-l'])
      t.equal(add.status, 0, 'a logging rule added')
      inNetns(ns, ['ping', '-c', '1', '-W', '1', '127.0.0.1'])
      await waitFor(() => log.datagrams().length > 0, 5000)
      const lines = log.datagrams().map(kernelLine)
      t.match(lines[0], /^Packet log: input - lo PROTO=1 127\.0\.0\.1:8 127\.0\.0\.1:0 L=84 S=0x00 I=\d+ F=0x4000 T=64 \(#1\)$/, 'its line')
      service.kill('SIGTERM')
      t.equal(await exited, 0, 'SIGTERM ends it with status 0')
    })
  } finally {
    log.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

t.test('legacyfw run and ipchains-restore start the runtime for the logging rules they leave', { timeout: 90_000 }, async (t) => {
  const missing = requireRootAndNft()
  if (missing) return t.fail(missing)
  const dir = mkdtempSync(join(tmpdir(), 'lfw-plog-'))
  const log = await syslogSocket(dir)
  const bin = (name: string) => join(import.meta.dirname, '..', 'bin', name)
  const env = ['env', `LEGACYFW_SYSLOG=${log.path}`]
  const running = (ns: string) => residentListed(inNetns(ns, ['cat', '/proc/net/unix']).stdout, RUNTIME_SOCKET)
  const pingLine = async (ns: string, pattern: RegExp, what: string) => {
    const before = log.datagrams().length
    inNetns(ns, ['ping', '-c', '1', '-W', '1', '127.0.0.1'])
    await waitFor(() => log.datagrams().length > before, 5000)
    t.match(kernelLine(log.datagrams()[before] ?? ''), pattern, what)
  }
  try {
    await withNetns('plog-run', async (ns) => {
      inNetns(ns, ['ip', 'link', 'set', 'lo', 'up'])
      const script = join(dir, 'rc.firewall')
      writeFileSync(script, 'ipchains -N icmpin\nipchains -A input -p icmp -j icmpin\nipchains -A icmpin -p icmp -j ACCEPT -l\n')
      const r = inNetns(ns, [...env, bin('legacyfw'), 'run', script])
      t.equal(r.status, 0, 'legacyfw run', { stderr: r.stderr })
      t.ok(await waitFor(() => running(ns), 10_000), 'the runtime runs after the script')
      await pingLine(ns, /^Packet log: icmpin ACCEPT lo PROTO=1 127\.0\.0\.1:8 127\.0\.0\.1:0 .* \(#1\)$/, 'the line of the rule the script left')
    })
    await withNetns('plog-restore', async (ns) => {
      inNetns(ns, ['ip', 'link', 'set', 'lo', 'up'])
      const saved = ':input ACCEPT\n:forward ACCEPT\n:output ACCEPT\n-A input -s 0.0.0.0/0.0.0.0 -d 0.0.0.0/0.0.0.0 -p 1 -j DENY -l\n'
      const r = inNetns(ns, [...env, bin('ipchains-restore')], saved)
      t.equal(r.status, 0, 'ipchains-restore', { stderr: r.stderr })
      t.ok(await waitFor(() => running(ns), 10_000), 'the runtime runs after the restore')
      await pingLine(ns, /^Packet log: input DENY lo PROTO=1 127\.0\.0\.1:8 127\.0\.0\.1:0 .* \(#1\)$/, 'the line of the restored rule')
    })
  } finally {
    log.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
