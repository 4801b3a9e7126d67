// ip_masq_raudio, RealAudio PNA and RTSP, through a gateway (lan 192.168.1.10 --
// gw -- wan 203.0.113.50) whose script masquerades and loads the module
// with a modprobe line, applied by `legacyfw run` (modprobe starts the
// runtime) and by `legacyfw translate` + `nft -f` plus `legacyfw runtime`
// (as legacyfw-runtime.service runs it). The real PNA peers exchange a hello
// whose UDP port record is last (records 3, 7, 1): the runtime walks every
// record, opens a hole per port record and puts the gateway port in it; the
// server streams to the gateway and the audio reaches the client. The real
// RTSP peers play a stream: the SETUP reaches the server naming gateway
// ports as wide as the client's (client_port rewritten in place), RTP and
// RTCP reach the client's ports. Without
// the module line it fails as issue 10 saw it. The hole lets the server in
// and no other outside host. Checksum offload is off on the veths.
import t from 'tap'
import { residentListed } from '../src/runtime/resident.ts'
import { RUNTIME_SOCKET } from '../src/runtime/runtime.ts'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GW_WAN, LAN_ADDRS, type Lab, WAN } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'
import { eachWay, gatewayScript, resetGateway } from './helpers/alg-lab.ts'
import { GATEWAY, MASQ_ONLY } from './helpers/alg-peers/checks.ts'
import { EXCHANGES, type Exchange, labPair } from './helpers/alg-peers/run.ts'
import { projectPath } from '../src/runtime/project.ts'
import { GATEWAY_PORTS, PNA_HOLE_MAP, SHORT_GATEWAY_PORTS } from '../src/translate/alg/raudio.ts'
import { ALG_TABLE } from '../src/translate/alg/apps.ts'
import { fuzzPayloads } from './helpers/alg-peers/fuzz-payloads.ts'

const missing =
  requireRootAndNft() ?? (spawnSync('ethtool', ['--version']).status === 0 ? undefined : 'these tests need ethtool (apt-get install ethtool)')

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const tmp = mkdtempSync(join(tmpdir(), 'lfw-alg-raudio-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

const OTHER = '203.0.113.51'
const LINE = '/sbin/modprobe ip_masq_raudio'

const waitFor = async (cond: () => boolean, ms: number): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (cond()) return true
  return cond()
}

const queueRules = (lab: Lab): number =>
  lab
    .exec('gw', ['iptables-nft', '-w', '-t', 'mangle', '-S', 'FORWARD'])
    .stdout.split('\n')
    .filter((l) => l.includes('NFQUEUE') && l.includes('--queue-bypass')).length

/** The nft handles of the queueing rules (a rule replaced gets a new one). */
const queueRuleHandles = (lab: Lab): string[] =>
  lab
    .exec('gw', ['nft', '-a', 'list', 'chain', 'ip', 'mangle', 'FORWARD'])
    .stdout.split('\n')
    .filter((l) => l.includes('queue'))
    .map((l) => /# handle (\d+)/.exec(l)?.[1] ?? '')

const hello = (x: Exchange): { id: number; port?: number }[] =>
  (x.server.find((l) => l.ev === 'hello')?.['records'] as { id: number; port?: number }[] | undefined) ?? []

const within = (p: unknown, range: { first: number; count: number }): boolean => Number(p) >= range.first && Number(p) < range.first + range.count
const gatewayPort = (p: unknown): boolean => within(p, GATEWAY_PORTS)

/** Whether a datagram from `src` to the gateway's `port` arrives at the client's `client` port in lan. */
const arrives = async (lab: Lab, src: string, port: number, client: number): Promise<boolean> =>
  (await lab.sniff('lan', client, async () => void (await lab.udp('wan', GW_WAN, port, { src, timeout: 0.3 })))).length > 0

const throughModule = async (t: Tap, lab: Lab, x: Exchange): Promise<void> => {
  t.equal(x.client.status, 0, 'PNA: the client got its audio', { result: x.client.result, stderr: x.client.stderr, server: x.server })
  t.same(x.client.result['received'], { 1: 3, 7: 3 }, '3/3 datagrams to each port')
  const records = hello(x)
  t.same(
    records.map((r) => r.id),
    [3, 7, 1],
    'the server read every record, the UDP port record last',
  )
  const udpPorts = x.client.result['udpPorts'] as Record<string, number>
  const ports = records.filter((r) => r.port)
  t.ok(
    ports.length === 2 && ports.every((r) => gatewayPort(r.port) && r.port !== udpPorts[String(r.id)]),
    "both port records reached the server naming gateway ports, not the client's",
    { ports, udpPorts },
  )
  const streamed = x.server.filter((l) => l.ev === 'streamed').map((l) => String(l['to']))
  t.ok(streamed.length === 2 && streamed.every((to) => to.startsWith(`${GATEWAY}:`)), 'the server streamed to the gateway', { streamed })
  const audio = ports.find((r) => r.id === 1)
  if (audio?.port) {
    t.notOk(await arrives(lab, OTHER, audio.port, udpPorts['1'] as number), 'another outside host cannot use the hole')
    t.ok(await arrives(lab, WAN, audio.port, udpPorts['1'] as number), 'the server still can')
  }
}

/** RTSP: the SETUP reached the server naming an even gateway port and the next, as wide as the client's; RTP and RTCP came back. */
const rtspThroughModule = async (t: Tap, lab: Lab, x: Exchange): Promise<void> => {
  t.equal(x.client.status, 0, 'RTSP: the client got its stream', { result: x.client.result, stderr: x.client.stderr, server: x.server })
  t.same([x.client.result['rtp'], x.client.result['rtcp']], [3, 1], '3 RTP packets and the RTCP report came back')
  const client = x.client.result['clientPorts'] as number[]
  const seen = (x.server.find((l) => l.ev === 'setup')?.['clientPorts'] as number[] | undefined) ?? []
  t.ok(
    seen.length === 2 &&
      seen.every((p) => within(p, String(client[0]).length === 4 ? SHORT_GATEWAY_PORTS : GATEWAY_PORTS)) &&
      (seen[0] as number) % 2 === 0 &&
      seen[1] === (seen[0] as number) + 1,
    "the SETUP reached the server naming an even gateway port and the next, not the client's",
    { seen, client },
  )
  t.same(
    seen.map((p) => String(p).length),
    client.map((p) => String(p).length),
    'as wide as the client ports (the segment kept its length)',
  )
  const streamed = x.server.filter((l) => l.ev === 'streamed').map((l) => String(l['rtp']))
  t.ok(streamed.length === 1 && streamed[0]?.startsWith(`${GATEWAY}:`), 'the server streamed to the gateway', { streamed })
  if (seen[0] && client[0]) {
    t.notOk(await arrives(lab, OTHER, seen[0], client[0]), 'another outside host cannot use the hole')
    t.ok(await arrives(lab, WAN, seen[0], client[0]), 'the server still can')
  }
}

const FUZZ_SEED = 20000101
const FUZZ_COUNT = 150
const SENDERS = [LAN_ADDRS[0], LAN_ADDRS[1]]

const runtimeRunning = (lab: Lab): boolean => residentListed(lab.exec('gw', ['cat', '/proc/net/unix']).stdout, RUNTIME_SOCKET)

/** The hole map's elements: key server . gateway port, value client . port. */
const holes = (lab: Lab): { server: string; client: string }[] => {
  const r = lab.exec('gw', ['nft', '-j', 'list', 'map', 'ip', ALG_TABLE, PNA_HOLE_MAP])
  const map = (JSON.parse(r.stdout) as { nftables: { map?: { elem?: unknown[] } }[] }).nftables.find((o) => o.map)?.map
  type Concat = { concat: [string, number] }
  return ((map?.elem ?? []) as [Concat | { elem: { val: Concat } }, Concat][]).map(([k, v]) => {
    const key = 'concat' in k ? k : k.elem.val
    return { server: key.concat[0], client: v.concat[0] }
  })
}

/** Valid, hostile, mutated and random PNA hellos or RTSP SETUPs from two lan hosts through the runtime: it survives, every hole goes to the host that sent it. */
const hostilePayloads = async (t: Tap, lab: Lab, protocol: 'pna' | 'rtsp'): Promise<void> => {
  const port = protocol === 'pna' ? 7070 : 554
  const before = holes(lab).length
  const sink = await lab.serve('wan', { tcp: [port] }, 60)
  const lines = fuzzPayloads(protocol, FUZZ_SEED, FUZZ_COUNT).map((p, i) => `${SENDERS[i % 2]} ${p.bytes.toString('hex')}`)
  const r = lab.exec(
    'lan',
    [process.execPath, join(import.meta.dirname, 'helpers', 'send-payloads.mjs'), WAN, String(port)],
    `${lines.join('\n')}\n`,
  )
  sink.stop()
  t.match(r.stdout, /"sent":\d+/, 'the payloads were sent', { stderr: r.stderr })
  t.ok(runtimeRunning(lab), 'the runtime still runs')
  const opened = holes(lab)
  t.ok(opened.length > before, `the valid ones opened holes (${opened.length - before})`)
  t.same(
    opened.filter((h) => h.server !== WAN || !SENDERS.includes(h.client as (typeof SENDERS)[number])),
    [],
    'every hole is from the server to the lan host that sent the payload',
  )
}

/** The pid of the runtime serving the gateway (it holds the abstract socket @legacyfw-runtime). */
const runtimePid = (lab: Lab): number | undefined => {
  const line = lab
    .exec('gw', ['ss', '-xlpH'])
    .stdout.split('\n')
    .find((l) => l.includes('@legacyfw-runtime'))
  const pid = /pid=(\d+)/.exec(line ?? '')?.[1]
  return pid === undefined ? undefined : Number(pid)
}

/** While no runtime reads the queue, hellos pass unchanged (bypass); modprobe starts it again, modprobe -r ends it and its rules. */
const lifecycle = async (t: Tap, lab: Lab): Promise<void> => {
  const pid = runtimePid(lab)
  t.ok(pid, 'the runtime serves the gateway')
  if (pid) process.kill(pid, 'SIGKILL')
  t.ok(await waitFor(() => !runtimeRunning(lab), 3000), 'the runtime is gone')
  t.equal(queueRules(lab), 2, 'its queueing rules stay')
  MASQ_ONLY.pna(t, await EXCHANGES.pna(labPair(lab)))
  const legacyfw = projectPath('bin', 'legacyfw')
  t.equal(lab.exec('gw', [legacyfw, 'modprobe', 'ip_masq_raudio']).status, 0, 'modprobe of the loaded module')
  t.ok(await waitFor(() => runtimeRunning(lab), 5000), 'started the runtime again')
  await throughModule(t, lab, await EXCHANGES.pna(labPair(lab)))
  t.equal(lab.exec('gw', [legacyfw, 'modprobe', '-r', 'ip_masq_raudio']).status, 0, 'modprobe -r')
  t.ok(await waitFor(() => !runtimeRunning(lab) && queueRules(lab) === 0, 10_000), 'the runtime removed its rules and ended')
  t.equal(lab.exec('gw', [legacyfw, 'modprobe', 'ip_masq_raudio']).status, 0, 'modprobe again')
  t.ok(await waitFor(() => runtimeRunning(lab) && queueRules(lab) === 2, 8000), 'the runtime serves again')
  const again = runtimePid(lab)
  if (again) process.kill(again, 'SIGKILL')
  t.ok(await waitFor(() => !runtimeRunning(lab), 3000), 'the runtime is gone again')
  t.equal(lab.exec('gw', [legacyfw, 'modprobe', '-r', 'ip_masq_raudio']).status, 0, 'modprobe -r with no runtime')
  t.ok(await waitFor(() => !runtimeRunning(lab) && queueRules(lab) === 0, 10_000), 'a runtime started for it removed the queueing rules and ended')
}

if (missing) t.fail(missing)
else
  eachWay(
    t,
    async (t, lab, apply, how) => {
      lab.exec('wan', ['ip', 'addr', 'add', `${OTHER}/24`, 'dev', 'eth0'])
      const exchange = (t: Tap, withModule: boolean): Promise<Exchange> => {
        resetGateway(lab)
        apply(t, lab, gatewayScript(tmp, 'pna', LINE, withModule))
        return EXCHANGES.pna(labPair(lab))
      }
      await t.test('without the module line', async (t) => {
        MASQ_ONLY.pna(t, await exchange(t, false))
        MASQ_ONLY.rtsp(t, await EXCHANGES.rtsp(labPair(lab)))
      })
      await t.test('with it', async (t) => {
        resetGateway(lab)
        apply(t, lab, gatewayScript(tmp, 'pna', LINE, true))
        // translate: the file has the table; the runtime is the service's (run: modprobe started it).
        const service = how.startsWith('legacyfw run') ? undefined : lab.background('gw', [projectPath('bin', 'legacyfw'), 'runtime'])
        t.ok(await waitFor(() => queueRules(lab) === 2, 8000), 'the runtime queues the hellos of masqueraded connections (iptables-nft, bypass)')
        const handles = queueRuleHandles(lab)
        await new Promise((r) => setTimeout(r, 4500))
        const after = queueRuleHandles(lab)
        t.ok(handles.length === 2 && String(after) === String(handles), "the runtime's looks keep its rules as they are", { handles, after })
        await throughModule(t, lab, await EXCHANGES.pna(labPair(lab)))
        await t.test('RTSP', async (t) => rtspThroughModule(t, lab, await EXCHANGES.rtsp(labPair(lab))))
        await t.test('RTSP from 4-digit client ports (RealPlayer: 6970)', async (t) =>
          rtspThroughModule(t, lab, await EXCHANGES.rtsp(labPair(lab), 554, { client: { base: 6970 } })),
        )
        await t.test('hostile hellos', async (t) => hostilePayloads(t, lab, 'pna'))
        await t.test('hostile SETUPs', async (t) => hostilePayloads(t, lab, 'rtsp'))
        await t.test('a hello and a SETUP after them', async (t) => {
          await throughModule(t, lab, await EXCHANGES.pna(labPair(lab)))
          await rtspThroughModule(t, lab, await EXCHANGES.rtsp(labPair(lab)))
        })
        if (service) service.kill('SIGTERM')
        else await t.test('without the runtime (bypass), started again, removed', async (t) => lifecycle(t, lab))
      })
    },
    { timeout: 120_000 },
  )
