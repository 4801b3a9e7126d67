// ip_masq_irc, ip_masq_cuseeme, ip_masq_vdolive and ip_masq_quake through
// a gateway (lan 192.168.1.10 -- gw -- wan 203.0.113.50) whose script
// masquerades (`ipchains -A forward -s 192.168.1.0/24 -j MASQ`, forward
// policy DENY) and loads the module with a modprobe line, applied by
// `legacyfw run` and again by `legacyfw translate` + `nft -f`. The real
// peers of test/helpers/alg-peers exchange as their protocols do; each
// exchange works with the module line and fails without it, as issue 10
// saw it fail. The UDP holes VDOLive and Quake open let the server in and
// no other outside host (issue 10: holes open only to the host that asked);
// a Quake server info query, not being a connect, opens nothing; a lan
// host the gateway routes without masquerading is not touched.
// Checksum offload is off on the veths.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GW_WAN, type Lab, WAN, withLab, withRouteBack } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'
import { APPLY, type Apply, gatewayScript, offloadOff, resetGateway } from './helpers/alg-lab.ts'
import { MASQ_ONLY, type ModulePeer, THROUGH_MODULE } from './helpers/alg-peers/checks.ts'
import { EXCHANGES, type Exchange, LAN_HOST, type Line, labPair, runPeer, startPeer } from './helpers/alg-peers/run.ts'

const missing =
  requireRootAndNft() ?? (spawnSync('ethtool', ['--version']).status === 0 ? undefined : 'these tests need ethtool (apt-get install ethtool)')

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const tmp = mkdtempSync(join(tmpdir(), 'lfw-alg-modules-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

/** Each module's line as era scripts wrote it, the peers it serves, and the server's port when not the protocol's own. */
const MODULES: readonly (readonly [ModulePeer, string, number?])[] = [
  ['irc', '/sbin/modprobe ip_masq_irc'],
  ['irc', '/sbin/modprobe ip_masq_irc ports=6667,6668', 6668],
  ['cuseeme', '/sbin/modprobe ip_masq_cuseeme'],
  ['cuseeme', '/sbin/modprobe ip_masq_cuseeme ports=7649', 7649],
  ['vdolive', '/sbin/modprobe ip_masq_vdolive'],
  ['vdolive', '/sbin/modprobe ip_masq_vdolive ports=7000,7001', 7001],
  ['quake', '/sbin/modprobe ip_masq_quake'],
  // QuakeWorld: 2.2 registered the helper on 27000 too.
  ['quake', '/sbin/modprobe ip_masq_quake', 27000],
]

/** Another outside host, on wan's link. */
const OTHER = '203.0.113.51'

const port = (endpoint: unknown): number => Number(String(endpoint).split(':')[1])
const logged = (x: Exchange, ev: string): Line | undefined => x.server.find((l) => l.ev === ev)

/** The UDP hole a module opened for the exchange: the gateway port the server sends to, and the client's port behind it. */
const HOLES: Readonly<Partial<Record<ModulePeer, (x: Exchange) => { gateway: number; client: number }>>> = {
  vdolive: (x) => ({ gateway: port(logged(x, 'streamed')?.['to']), client: Number(x.client.result['udpPort']) }),
  quake: (x) => ({ gateway: port(logged(x, 'connect')?.['from']), client: Number(x.client.result['port']) }),
}

/** Whether a datagram from `src` to the gateway's port arrives at the client's port in lan. */
const arrives = async (lab: Lab, src: string, hole: { gateway: number; client: number }): Promise<boolean> =>
  (
    await lab.sniff('lan', hole.client, async () => {
      await lab.udp('wan', GW_WAN, hole.gateway, { src, timeout: 0.3 })
    })
  ).length > 0

const checkHole = async (t: Tap, lab: Lab, hole: { gateway: number; client: number }): Promise<void> => {
  t.notOk(await arrives(lab, OTHER, hole), `another outside host cannot use the hole (${GW_WAN}:${hole.gateway})`)
  t.ok(await arrives(lab, WAN, hole), 'the server still can')
}

/** Quake: a server browser's info query is answered, and (not being a connect, as in 2.2) opens nothing to the querying client. */
const checkInfoQuery = async (t: Tap, lab: Lab, serverPort: number): Promise<void> => {
  const server = await startPeer(lab.ns.wan, 'quake', 'server', { port: serverPort, lifetime: 30 })
  try {
    const query = await runPeer(lab.ns.lan, 'quake', 'info', { server: WAN, port: serverPort })
    t.equal(query.result.result, 'answered', 'a server info query is answered', { query })
    const seen = await server.waitFor((l) => l.ev === 'info')
    const hole = { gateway: port(seen?.['from']), client: Number(query.result['port']) }
    t.notOk(await arrives(lab, WAN, hole), 'and opens no hole: the server from another port does not reach the client')
  } finally {
    server.stop()
  }
}

/** A gateway that routes the lan (no masquerading) with the modules loaded: they leave its connections alone (2.2 bound masqueraded ones only). */
const checkRoutedUntouched = async (t: Tap, lab: Lab, apply: Apply): Promise<void> => {
  resetGateway(lab)
  const script = join(tmp, 'routed.sh')
  const lines = ['/sbin/modprobe ip_masq_vdolive', '/sbin/modprobe ip_masq_cuseeme', 'ipchains -P forward DENY']
  writeFileSync(
    script,
    [...lines, 'ipchains -A forward -s 192.168.1.0/24 -j ACCEPT', 'ipchains -A forward -d 192.168.1.0/24 -j ACCEPT', ''].join('\n'),
  )
  apply(t, lab, script)
  await withRouteBack(lab, LAN_HOST, async () => {
    const vdo = await EXCHANGES.vdolive(labPair(lab))
    t.equal(vdo.client.result['received'], 3, 'VDOLive streams straight to the routed client')
    const cu = await EXCHANGES.cuseeme(labPair(lab))
    const addrs = cu.server.filter((l) => l.ev === 'packet' && l['name'] === 'alice').map((l) => l['addr'])
    t.same(addrs, [LAN_HOST, LAN_HOST, LAN_HOST], "CU-SeeMe headers keep the client's own address")
    t.equal(cu.client.result.result, 'addressed', 'and the answers reach it unchanged')
  })
  for (const [kind, name] of [
    ['map', 'vdolive_hole'],
    ['set', 'cuseeme_own'],
  ])
    t.notMatch(
      lab.exec('gw', ['nft', 'list', kind as string, 'ip', 'legacyfw_masqapp', name as string]).stdout,
      /elements/,
      `nothing learned in ${name}`,
    )
}

if (missing) t.fail(missing)
else
  for (const [how, apply] of APPLY)
    t.test(how, async (t) => {
      await withLab(async (lab) => {
        offloadOff(lab)
        lab.exec('wan', ['ip', 'addr', 'add', `${OTHER}/24`, 'dev', 'eth0'])
        for (const [peer, line, port] of MODULES)
          await t.test(`${line}${port ? `, server on ${port}` : ''}`, async (t) => {
            const exchange = async (t: Tap, withModule: boolean) => {
              resetGateway(lab)
              apply(t, lab, gatewayScript(tmp, peer, line, withModule))
              return EXCHANGES[peer](labPair(lab), port)
            }
            await t.test('without the module line', async (t) => MASQ_ONLY[peer](t, await exchange(t, false)))
            await t.test('with it', async (t) => {
              const x = await exchange(t, true)
              THROUGH_MODULE[peer](t, x)
              const hole = HOLES[peer]
              if (hole) await checkHole(t, lab, hole(x))
              if (peer === 'quake') await checkInfoQuery(t, lab, port ?? 26000)
            })
          })
        await t.test('a routed lan host is not touched', async (t) => checkRoutedUntouched(t, lab, apply))
      })
    })
