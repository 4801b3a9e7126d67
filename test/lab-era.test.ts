// Corpus scripts that read their addresses from `ifconfig`, run unchanged
// but for their interface variables through `legacyfw run` in the gateway
// of a lan/gw/wan lab (test/helpers/lab.ts): ifconfig is served with the
// gateway's real interfaces, so the rules name the real addresses, and real
// packets check them.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { GW_WAN, LAN_ADDRS, type Lab, WAN, checkMasqueraded, withLab } from './helpers/lab.ts'
import { corpusPath } from './helpers/corpus-dir.mjs'
import { requireRootAndNft } from './helpers/netns.ts'
import { setVariables } from '../src/script/sandbox.ts'
import { readInputFile } from '../src/runtime/input-file.ts'

const ROOT = new URL('..', import.meta.url).pathname
const LEGACYFW = join(ROOT, 'bin/legacyfw')
const IPMASQADM = join(ROOT, 'bin/ipmasqadm')
const [LAN10, LAN11] = LAN_ADDRS
const esc = (a: string): string => a.replaceAll('.', '\\.')

const missing = requireRootAndNft() ?? (spawnSync('python3', ['-c', '1']).status === 0 ? undefined : 'these tests need python3')

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const tmp = mkdtempSync(join(tmpdir(), 'lfw-lab-era-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

/** The corpus script with only its interface variables set for the lab, run by `legacyfw run` in the gateway. */
const runInGateway = (t: Tap, lab: Lab, file: string, vars: Record<string, string>, args: string[] = []) => {
  const path = join(tmp, file.replaceAll('/', '_'))
  writeFileSync(path, setVariables(readInputFile(corpusPath(file)).toString('latin1'), vars), 'latin1')
  const r = lab.exec('gw', [LEGACYFW, 'run', path, ...args])
  t.equal(r.status, 0, `${file} ran to its end: ${r.stderr}`)
  t.notMatch(r.stdout + r.stderr, /not configured|aborting/, 'it found its address')
  return r
}

if (missing) t.fail(missing)
else {
  t.test('security-quickstart ipchains-simple: WAN_IP from ifconfig', async (t) => {
    await withLab(async (lab) => {
      runInGateway(t, lab, 'ipchains/security-quickstart-ipchains-simple.sh', { WAN_IFACE: 'wan0' })
      const listing = lab.ipchains('-L', 'input', '-n').stdout
      t.match(listing, new RegExp(`^ACCEPT +tcp +!y---- +0\\.0\\.0\\.0/0 +${esc(GW_WAN)} `, 'm'), 'the rules name the real address')
      const wan = await lab.serve('wan', { tcp: [8080] })
      const gw = await lab.serve('gw', { tcp: [2222] })
      t.equal((await lab.tcp('gw', WAN, 8080)).result, 'reply', 'the gateway reaches wan (replies to its local ports come in)')
      t.equal((await lab.tcp('wan', GW_WAN, 2222, { timeout: 1 })).result, 'timeout', 'a connection from wan to the gateway is denied')
      wan.stop()
      gw.stop()
    })
  })

  t.test('security-quickstart ipchains-II: WAN_IP and WAN_MASK from ifconfig, public port 22, masquerading', async (t) => {
    await withLab(async (lab) => {
      runInGateway(t, lab, 'ipchains/security-quickstart-ipchains-II.sh', { WAN_IFACE: 'wan0', LAN_IFACE: 'lan0' })
      const listing = lab.ipchains('-L', 'input', '-n').stdout
      t.match(listing, new RegExp(`^ACCEPT +tcp +------ +0\\.0\\.0\\.0/0 +${esc(GW_WAN)} +\\* -> +22$`, 'm'), 'port 22 at the real address')
      const gw = await lab.serve('gw', { tcp: [22, 2222] })
      const wan = await lab.serve('wan', { tcp: [8080] })
      t.equal((await lab.tcp('wan', GW_WAN, 22)).result, 'reply', 'wan reaches the public port')
      t.equal((await lab.tcp('wan', GW_WAN, 2222, { timeout: 1 })).result, 'timeout', 'another port is denied')
      checkMasqueraded(t, await lab.tcp('lan', WAN, 8080, { src: LAN10 }), 'lan to wan')
      gw.stop()
      wan.stop()
    })
  })

  t.test('bnetd bnetmasq: EXTERNAL_IP from ifconfig, portfw to the lan', async (t) => {
    await withLab(async (lab) => {
      for (const args of [
        ['-P', 'forward', 'DENY'],
        ['-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ'],
      ])
        t.equal(lab.ipchains(...args).status, 0, `ipchains ${args.join(' ')}`)
      runInGateway(t, lab, 'ipmasqadm/bnetd-bnetmasq.sh', { EXTERNAL_IF: 'wan0', REDIR_LIST: `${LAN10}:5000 ${LAN11}:5001` }, ['start'])
      const listing = lab.exec('gw', [IPMASQADM, 'portfw', '-l', '-n']).stdout
      t.match(listing, new RegExp(`^UDP +${esc(GW_WAN)} +${esc(LAN10)} +5000 +6112 `, 'm'), 'the forward names the real address')
      const lan = await lab.serve('lan', { udp: [6112] })
      const p = await lab.udp('wan', GW_WAN, 5000)
      t.equal(p.result, 'reply', `a datagram to ${GW_WAN}:5000 is answered by the lan host: ${JSON.stringify(p)}`)
      t.ok(await lan.waitFor((e) => e.ev === 'udp' && e.local === `${LAN10}:6112`), 'the lan host got it on 6112')
      lan.stop()
    })
  })
}
