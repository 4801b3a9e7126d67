#!/usr/bin/env node
// Benchmark: packet log lines (ipchains -l) through the runtime, inside a
// throwaway network namespace (loopback only; the host is never touched),
// the lines going to a private syslog socket (LEGACYFW_SYSLOG).
//   throughput  UDP datagrams sent at a fixed rate for 2 s to a port an
//               `-l -j ACCEPT` rule logs; lost = sent - lines received 1 s
//               after the last; the highest rate with none lost is the figure
//   latency     round trip of a UDP echo (1 logged packet per round trip)
//               with the rule logging and without, alternating rounds in
//               the same run; medians and the difference
//
//   node bench/packetlog.mjs [echo rounds]     (root)
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const rounds = Number(process.argv[2] ?? 6)
const here = fileURLToPath(import.meta.url)
const ipchains = fileURLToPath(new URL('../bin/ipchains', import.meta.url))

if (process.env['LEGACYFW_BENCH_INSIDE'] !== '1') {
  const r = spawnSync('unshare', ['-n', process.execPath, here, String(rounds)], {
    stdio: 'inherit',
    env: { ...process.env, LEGACYFW_BENCH_INSIDE: '1' },
  })
  process.exit(r.status ?? 1)
}

const PY = `
import socket, sys, time, json, statistics
role = sys.argv[1]
if role == "syslog":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(sys.argv[2])
    out = open(sys.argv[3], "ab", buffering=0)
    print("ready", flush=True)
    while True:
        out.write(s.recv(65536) + b"\\n")
elif role == "send":
    rate, seconds = float(sys.argv[2]), float(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n, start = 0, time.perf_counter()
    total = int(rate * seconds)
    while n < total:
        if time.perf_counter() - start >= n / rate:
            s.sendto(b"x", ("127.0.0.1", 9999)); n += 1
    print(n, flush=True)
elif role == "sink":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", 9999))
    print("ready", flush=True)
    while True:
        b, a = s.recvfrom(64)
        if b != b"x": s.sendto(b, a)
elif role == "echo":
    n = int(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", 9999))
    times = []
    for i in range(n):
        t = time.perf_counter_ns(); s.send(b"e"); s.recv(64); times.append(time.perf_counter_ns() - t)
    print(json.dumps(statistics.median(times) / 1000), flush=True)
`

const must = (argv, env) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: env ?? process.env })
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
  return r.stdout
}
const started = (argv) =>
  new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
    child.stdout.once('data', () => resolve(child))
  })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

must(['ip', 'link', 'set', 'lo', 'up'])
const dir = mkdtempSync(join(tmpdir(), 'lfw-bench-plog-'))
const sock = join(dir, 'log.sock')
const file = join(dir, 'log.txt')
const env = { ...process.env, LEGACYFW_SYSLOG: sock }
const lines = () => (existsSync(file) ? readFileSync(file, 'latin1').split('\n').length - 1 : 0)
const syslog = await started(['python3', '-c', PY, 'syslog', sock, file])
const sink = await started(['python3', '-c', PY, 'sink'])
const rule = (log) => {
  must([ipchains, '-F', 'input'], env)
  must([ipchains, '-A', 'input', '-i', 'lo', '-p', 'udp', '-d', '0/0', '9999', '-j', 'ACCEPT', ...(log ? ['-l'] : [])], env)
}
try {
  rule(true)
  await sleep(1000)
  console.log('throughput (2 s at each rate; lost = sent - lines):')
  let best = 0
  for (const rate of [1000, 2000, 5000, 10000, 20000, 40000]) {
    const before = lines()
    const sent = Number(must(['python3', '-c', PY, 'send', String(rate), '2']))
    await sleep(1000)
    const got = lines() - before
    console.log(`  ${rate} pkt/s: sent ${sent}, lines ${got}, lost ${sent - got}`)
    if (got >= sent) best = rate
    else break
  }
  console.log(`  lossless up to ${best} pkt/s`)

  const on = []
  const off = []
  for (let i = 0; i < rounds; i++)
    for (const log of [false, true]) {
      rule(log)
      await sleep(log ? 300 : 50)
      ;(log ? on : off).push(Number(must(['python3', '-c', PY, 'echo', '2000'])))
    }
  const [a, b] = [median(off), median(on)]
  console.log(
    `UDP echo round trip, median of ${rounds} rounds of 2000: ${a.toFixed(1)} us unlogged, ${b.toFixed(1)} us logged: +${(b - a).toFixed(1)} us (${(b / a).toFixed(2)}x)`,
  )
} finally {
  must([ipchains, '-F', 'input'], env)
  syslog.kill('SIGKILL')
  sink.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}
