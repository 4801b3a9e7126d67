// The protocol peers of test/helpers/alg-peers (IRC DCC, CU-SeeMe,
// VDOLive, Quake, RealAudio PNA, RTSP) are real: each exchange works
// between two namespaces on one link, and fails through a gateway that only
// masquerades (`ipchains -A forward -s 192.168.1.0/24 -j MASQ` through
// `legacyfw run`), the way issue 10 saw it fail without the ip_masq_*
// modules. Checksum offload is off on every veth.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withLab } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'
import { APPLY, gatewayScript, offloadOff } from './helpers/alg-lab.ts'
import { DIRECT, MASQ_ONLY } from './helpers/alg-peers/checks.ts'
import { EXCHANGES, PEERS, labPair, withDirectPair } from './helpers/alg-peers/run.ts'

const missing =
  requireRootAndNft() ?? (spawnSync('ethtool', ['--version']).status === 0 ? undefined : 'these tests need ethtool (apt-get install ethtool)')

const tmp = mkdtempSync(join(tmpdir(), 'lfw-alg-peers-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

if (missing) t.fail(missing)
else {
  t.test('directly connected, every exchange works', async (t) => {
    await withDirectPair(async (pair) => {
      for (const peer of PEERS) await t.test(peer, async (t) => DIRECT[peer](t, await EXCHANGES[peer](pair)))
    })
  })

  t.test('through a gateway that only masquerades (legacyfw run), every exchange fails', async (t) => {
    const byRun = APPLY.find(([how]) => how === 'legacyfw run')?.[1]
    await withLab(async (lab) => {
      offloadOff(lab)
      byRun?.(t, lab, gatewayScript(tmp, 'masquerading only', '', false))
      for (const peer of PEERS) await t.test(peer, async (t) => MASQ_ONLY[peer](t, await EXCHANGES[peer](labPair(lab))))
    })
  })
}
