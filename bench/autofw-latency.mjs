#!/usr/bin/env node
// Benchmark: autofw trigger-to-forward latency and packets lost, with real
// packets in throwaway namespaces (lan, gw, wan; the host is never touched).
//
// Each trial adds the CU-SeeMe entry (`-r udp 7648 7649 -c udp 7648 -u`) to
// a fresh table, lets wan stream numbered UDP datagrams to the gateway's
// port 7649 (one per millisecond, from a port of its own), and after 300 ms
// sends the control packet from a lan host to wan:7648. Measured, on the
// one monotonic clock all namespaces share:
//   latency  ms from sending the control packet to the first datagram
//            forwarded to the lan host (the stream's 1 ms spacing included)
//   lost     datagrams wan sent after the control packet had reached it
//            (so the gateway had learned the host) that the lan host never
//            got; the goal is 0
//   early    datagrams forwarded before the control packet was sent (must be 0)
// Run on an ipchains gateway with `ipmasqadm autofw` (2.2) and on an ipfwadm
// gateway with `ipautofw` (2.0).
//
//   node bench/autofw-latency.mjs [trials per gateway]   (root)
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { GW_WAN, LAN, WAN, benchLab } from './lab.mjs'

const trials = Number(process.argv[2] ?? 10)
const bin = (name) => fileURLToPath(new URL(`../bin/${name}`, import.meta.url))
const { ns, inNs, up, down } = benchLab(`lfw-bench-${process.pid}`)

const must = (argv, input) => {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`)
  return r.stdout
}

// The three roles, one Python program (monotonic nanoseconds).
const PY = `
import json, socket, struct, sys, time
role = sys.argv[1]
if role == "stream":
    gw, sport, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    watch = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    watch.bind(("0.0.0.0", 7648)); watch.setblocking(False)
    data = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data.bind(("0.0.0.0", sport))
    print("ready", flush=True)
    sent, seen, seq = [], None, 0
    end = time.monotonic_ns() + int(seconds * 1e9)
    while time.monotonic_ns() < end:
        now = time.monotonic_ns()
        data.sendto(struct.pack("!IQ", seq, now), (gw, 7649)); sent.append(now); seq += 1
        try:
            watch.recv(64)
            if seen is None: seen = time.monotonic_ns()
        except BlockingIOError:
            pass
        time.sleep(0.001)
    print(json.dumps({"sent": sent, "triggerSeen": seen}), flush=True)
elif role == "receive":
    # Until the bench says "end" (after the stream has ended), at most 30 s.
    addr = sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 7649)); s.settimeout(30)
    print("ready", flush=True)
    got = []
    while True:
        b = s.recv(64)
        if b == b"end": break
        got.append([struct.unpack("!IQ", b)[0], time.monotonic_ns()])
    print(json.dumps({"got": got}), flush=True)
elif role == "end":
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"end", (sys.argv[2], 7649))
else:
    # Started before the stream: sends when the bench says "go" on stdin.
    src, sport, wan = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, sport))
    print("ready", flush=True)
    sys.stdin.readline()
    t = time.monotonic_ns()
    s.sendto(b"ctl", (wan, 7648))
    print(json.dumps({"trigger": t}), flush=True)
`

/**
 * Starts a role: `ready` resolves once it has started (Python may take long
 * to), `done` with its JSON result; `go()` releases a role that waits for it.
 */
const role = (place, args) => {
  const child = spawn('ip', ['netns', 'exec', ns[place], 'python3', '-c', PY, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  let onReady
  const ready = new Promise((r) => (onReady = r))
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d
    if (out.startsWith('ready\n')) onReady()
  })
  const done = new Promise((resolve, reject) =>
    child.on('close', (code) =>
      code === 0
        ? resolve(
            JSON.parse(
              out
                .split('\n')
                .filter((l) => l.startsWith('{'))
                .pop(),
            ),
          )
        : reject(new Error(`${args[0]} ended ${code}`)),
    ),
  )
  return { ready, done, go: () => child.stdin.end('go\n') }
}

const GATEWAYS = [
  {
    name: 'ipchains gateway, ipmasqadm autofw (2.2)',
    setup: [
      [bin('ipchains'), '-P', 'forward', 'DENY'],
      [bin('ipchains'), '-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ'],
    ],
    autofw: [bin('ipmasqadm'), 'autofw'],
    reset: [
      [bin('ipchains'), '-F'],
      [bin('ipchains'), '-P', 'forward', 'ACCEPT'],
      [bin('ipmasqadm'), 'autofw', '-F'],
    ],
  },
  {
    name: 'ipfwadm gateway, ipautofw (2.0)',
    setup: [
      [bin('ipfwadm'), '-F', '-p', 'deny'],
      [bin('ipfwadm'), '-F', '-a', 'm', '-S', '192.168.1.0/24', '-D', '0/0'],
    ],
    autofw: [bin('ipautofw')],
    reset: [
      [bin('ipfwadm'), '-F', '-f'],
      [bin('ipfwadm'), '-F', '-p', 'accept'],
      [bin('ipautofw'), '-F'],
    ],
  },
]

const trial = async (gw, n) => {
  must(inNs('gw', [...gw.autofw, '-F']))
  must(inNs('gw', [...gw.autofw, '-A', '-r', 'udp', '7648', '7649', '-c', 'udp', '7648', '-u']))
  // Every helper has started before the stream's 0.7 s window opens: how long
  // a helper takes to start must not decide whether the trigger falls in it.
  const receiver = role('lan', ['receive', LAN])
  const sender = role('lan', ['trigger', LAN, String(30000 + n), WAN])
  await Promise.all([receiver.ready, sender.ready])
  const stream = role('wan', ['stream', GW_WAN, String(20000 + n), '0.7'])
  await stream.ready
  await new Promise((r) => setTimeout(r, 300))
  sender.go()
  const { trigger } = await sender.done
  const { sent, triggerSeen } = await stream.done
  await new Promise((r) => setTimeout(r, 100))
  must(inNs('lan', ['python3', '-c', PY, 'end', LAN]))
  const { got } = await receiver.done
  if (triggerSeen === null) throw new Error('the control packet never reached wan')
  const received = new Set(got.map(([seq]) => seq))
  const first = Math.min(...got.map(([, at]) => at))
  return {
    latencyMs: got.length ? (first - trigger) / 1e6 : Infinity,
    lost: sent.filter((at, seq) => at > triggerSeen && !received.has(seq)).length,
    early: got.filter(([seq]) => sent[seq] < trigger).length,
    after: sent.filter((at) => at > triggerSeen).length,
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

if (process.getuid?.() !== 0) {
  console.error('bench/autofw-latency.mjs needs root (it builds network namespaces)')
  process.exit(1)
}
try {
  up()
  for (const gw of GATEWAYS) {
    for (const argv of gw.setup) must(inNs('gw', argv))
    const results = []
    for (let n = 0; n < trials; n++) results.push(await trial(gw, n + (gw === GATEWAYS[0] ? 0 : trials)))
    for (const argv of gw.reset) must(inNs('gw', argv))
    const lat = results.map((r) => r.latencyMs)
    const sum = (k) => results.reduce((s, r) => s + r[k], 0)
    console.log(
      `${gw.name}: latency median ${median(lat).toFixed(2)} ms, max ${Math.max(...lat).toFixed(2)} ms; ` +
        `lost ${sum('lost')} of ${sum('after')} sent after the trigger reached wan; forwarded before the trigger ${sum('early')} (${trials} trials)`,
    )
  }
} finally {
  down()
}
