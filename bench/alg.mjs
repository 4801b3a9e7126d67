#!/usr/bin/env node
// Benchmark of the masquerading helpers, in three throwaway network
// namespaces (lan 192.168.1.10 -- gw -- wan 203.0.113.50; the host is never
// touched), the gateway's script applied by `legacyfw run`:
//   pna   RealAudio PNA hellos (records 3, 7, 1: the port record last), one
//         TCP connection each, through a gateway masquerading with and
//         without `modprobe ip_masq_raudio`; the time each hello spends in
//         the gateway (tcpdump -i any in gw: in on lan0 -> out on wan0),
//         which with the module includes the NFQUEUE round trip to the
//         runtime, the two holes added over netlink and the rewrite
//   ftp   a 256 MiB passive download from vsftpd (wan) by ftplib (lan),
//         with and without `modprobe ip_masq_ftp` (the kernel's helper on
//         the control connection, the data connection expected), and the
//         active download with it (without it active FTP fails)
//
//   node bench/alg.mjs [hellos] [ftp rounds]     (root; vsftpd, tcpdump, iptables-nft)
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WAN, benchLab } from './lab.mjs'
import { vsftpdConfig } from '../test/helpers/vsftpd.mjs'

const HELLOS = Number(process.argv[2] ?? 300)
const ROUNDS = Number(process.argv[3] ?? 3)
const legacyfw = fileURLToPath(new URL('../bin/legacyfw', import.meta.url))
const sender = fileURLToPath(new URL('../test/helpers/send-payloads.mjs', import.meta.url))
const { ns: NS, inNs, up, down: removeLab } = benchLab(`lfwbench-${process.pid}`)
const tmp = mkdtempSync(join(tmpdir(), 'lfw-bench-alg-'))
const children = []

const sh = (argv, input) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input, env: { ...process.env, LEGACYFW_SYSLOG: '/nonexistent/log' } })
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}
const must = (argv, input) => {
  const r = sh(argv, input)
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
  return r.stdout
}
const background = (place, argv) => {
  const child = spawn('ip', ['netns', 'exec', NS[place], ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  return child
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const down = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  removeLab()
  rmSync(tmp, { recursive: true, force: true })
}

/** The gateway's firewall from scratch: `module` (a modprobe line or none), then masquerading. */
const gateway = (module) => {
  sh(inNs('gw', ['nft', 'flush', 'ruleset']))
  sh(inNs('gw', ['conntrack', '-F']))
  const script = join(tmp, `gw-${Date.now()}.sh`)
  writeFileSync(script, [...(module ? [module] : []), 'ipchains -P forward DENY', 'ipchains -A forward -s 192.168.1.0/24 -j MASQ', ''].join('\n'))
  must(inNs('gw', [legacyfw, 'run', script]))
}

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const ms = (x) => (x === undefined ? '-' : x.toFixed(3))

const be16 = (n) => [n >> 8, n & 0xff]
const record = (rid, value) => [...be16(rid), ...be16(value.length), ...value]
/** A hello with its records 3, 7, 1 (two client UDP ports, the audio port last). */
const hello = (port) =>
  Buffer.from([
    ...Buffer.from('PNA'),
    ...be16(10),
    ...record(3, [...Buffer.from('opaque')]),
    ...record(7, be16(port + 1)),
    ...record(1, be16(port)),
    0,
    0,
  ])

/** ms each hello spent in the gateway, from tcpdump's in (lan0) and out (wan0) times of its segment. */
const helloLatencies = async () => {
  // tcpdump writes to a file: this process blocks while the hellos are sent (a pipe would fill and drop packets).
  const file = join(tmp, `hellos-${Date.now()}.txt`)
  const dump = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS.gw,
      'tcpdump',
      '-i',
      'any',
      '-n',
      '-S',
      '-l',
      '--time-stamp-precision=nano',
      '-tt',
      'tcp dst port 7070 and tcp[tcpflags] & tcp-push != 0',
    ],
    {
      stdio: ['ignore', openSync(file, 'w'), 'ignore'],
    },
  )
  children.push(dump)
  await sleep(1000)
  const lines = Array.from({ length: HELLOS }, (_, i) => `192.168.1.10 ${hello(20000 + 2 * i).toString('hex')}`)
  const sent = must(inNs('lan', [process.execPath, sender, '203.0.113.50', '7070']), `${lines.join('\n')}\n`)
  await sleep(1000)
  dump.kill('SIGINT')
  await new Promise((r) => dump.on('close', r))
  const text = readFileSync(file, 'utf8')
  // From a segment's first time in to its first time out; a hello sent again (no verdict within the RTO) counts from its first sending.
  const firstIn = new Map()
  const firstOut = new Map()
  let resent = 0
  for (const l of text.split('\n')) {
    const m = /^(\d+\.\d+) (\S+)\s+(In|Out) .* seq (\d+:\d+)/.exec(l)
    if (!m) continue
    const [, at, , dir, seq] = m
    const first = dir === 'In' ? firstIn : firstOut
    if (first.has(seq)) resent += dir === 'In' ? 1 : 0
    else first.set(seq, Number(at))
  }
  const out = [...firstIn].flatMap(([seq, at]) => (firstOut.has(seq) ? [(firstOut.get(seq) - at) * 1000] : []))
  const lost = firstIn.size - out.length
  return { sent: JSON.parse(sent.trim()), latencies: out, resent, lost }
}

const pna = async () => {
  const sink = background('wan', [
    'python3',
    '-c',
    'import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("203.0.113.50",7070)); s.listen(512)\nwhile True:\n  c,_=s.accept(); c.recv(4096); c.close()',
  ])
  await sleep(500)
  const rows = []
  for (const [name, module] of [
    ['masquerading only', undefined],
    ['with ip_masq_raudio', '/sbin/modprobe ip_masq_raudio'],
  ]) {
    gateway(module)
    if (module) {
      for (let i = 0; i < 100 && !must(inNs('gw', ['iptables-nft', '-w', '-t', 'mangle', '-S', 'FORWARD'])).includes('NFQUEUE'); i++)
        await sleep(100)
    }
    const { sent, latencies, resent, lost } = await helloLatencies()
    rows.push([name, sent.sent, latencies.length, resent, lost, percentile(latencies, 50), percentile(latencies, 99), Math.max(...latencies)])
  }
  sink.kill('SIGKILL')
  console.log(`PNA hello time in the gateway (ms), ${HELLOS} hellos, one connection each:`)
  console.log('  gateway               sent  timed  resent  never out  p50     p99     max')
  for (const [name, sent, n, resent, lost, p50, p99, max] of rows)
    console.log(
      `  ${name.padEnd(20)}  ${String(sent).padEnd(4)}  ${String(n).padEnd(5)}  ${String(resent).padEnd(6)}  ${String(lost).padEnd(9)}  ${ms(p50).padEnd(6)}  ${ms(p99).padEnd(6)}  ${ms(max)}`,
    )
}

const FTP_CLIENT = `
import ftplib, sys, time, json
ftp = ftplib.FTP(timeout=30)
ftp.connect(sys.argv[1], 21); ftp.login(); ftp.set_pasv(sys.argv[2] == 'pasv')
n = [0]
t = time.monotonic()
ftp.retrbinary('RETR big', lambda b: n.__setitem__(0, n[0] + len(b)), blocksize=262144)
print(json.dumps({'bytes': n[0], 'seconds': time.monotonic() - t}))
ftp.quit()
`
const SIZE = 256 << 20

const ftp = async () => {
  const pub = join(tmp, 'pub')
  mkdirSync(pub, { mode: 0o755 })
  mkdirSync(join(tmp, 'empty'), { mode: 0o755 })
  chmodSync(tmp, 0o755)
  writeFileSync(join(pub, 'big'), '')
  truncateSync(join(pub, 'big'), SIZE)
  chmodSync(join(pub, 'big'), 0o644)
  const conf = join(tmp, 'vsftpd.conf')
  writeFileSync(conf, vsftpdConfig({ address: WAN, anonRoot: pub, emptyDir: join(tmp, 'empty') }))
  background('wan', ['vsftpd', conf])
  await sleep(800)
  const rows = []
  for (const [name, module, mode] of [
    ['passive, masquerading only', undefined, 'pasv'],
    ['passive, with ip_masq_ftp', '/sbin/modprobe ip_masq_ftp', 'pasv'],
    ['active, with ip_masq_ftp', '/sbin/modprobe ip_masq_ftp', 'active'],
  ]) {
    gateway(module)
    const rates = []
    for (let i = 0; i < ROUNDS; i++) {
      const r = JSON.parse(must(inNs('lan', ['python3', '-c', FTP_CLIENT, '203.0.113.50', mode])).trim())
      if (r.bytes !== SIZE) throw new Error(`${name}: ${r.bytes} bytes of ${SIZE}`)
      rates.push(r.bytes / r.seconds / 2 ** 20)
    }
    rows.push([name, percentile(rates, 50), Math.min(...rates), Math.max(...rates)])
  }
  console.log(`FTP download of ${SIZE >> 20} MiB (MiB/s), ${ROUNDS} rounds:`)
  console.log('  mode                         median   min      max')
  for (const [name, med, min, max] of rows)
    console.log(`  ${name.padEnd(27)}  ${med.toFixed(0).padEnd(7)}  ${min.toFixed(0).padEnd(7)}  ${max.toFixed(0)}`)
}

try {
  up()
  await pna()
  if (!process.env.BENCH_PNA_ONLY) await ftp()
} finally {
  down()
}
