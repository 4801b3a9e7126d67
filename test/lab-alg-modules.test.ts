// ip_masq_irc, ip_masq_cuseeme, ip_masq_vdolive and ip_masq_quake through
// a gateway (lan 192.168.1.10 -- gw -- wan 203.0.113.50) whose script
// masquerades (`ipchains -A forward -s 192.168.1.0/24 -j MASQ`, forward
// policy DENY) and loads the module with a modprobe line, applied by
// `legacyfw run` and again by `legacyfw translate` + `nft -f`. The real
// peers of test/helpers/alg-peers exchange as their protocols do; each
// exchange works with the module line and fails without it, as issue 10
// saw it fail. Checksum offload is off on the veths.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withLab } from './helpers/lab.ts'
import { requireRootAndNft } from './helpers/netns.ts'
import { APPLY, gatewayScript, offloadOff, resetGateway } from './helpers/alg-lab.ts'
import { MASQ_ONLY, type ModulePeer, THROUGH_MODULE } from './helpers/alg-peers/checks.ts'
import { EXCHANGES, labPair } from './helpers/alg-peers/run.ts'

const missing =
  requireRootAndNft() ?? (spawnSync('ethtool', ['--version']).status === 0 ? undefined : 'these tests need ethtool (apt-get install ethtool)')

type Tap = Parameters<Parameters<typeof t.test>[0]>[0]

const tmp = mkdtempSync(join(tmpdir(), 'lfw-alg-modules-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

/** Each module's line as era scripts wrote it, and the peers it serves. */
const MODULES: readonly (readonly [ModulePeer, string])[] = [
  ['irc', '/sbin/modprobe ip_masq_irc'],
  ['cuseeme', '/sbin/modprobe ip_masq_cuseeme'],
  ['vdolive', '/sbin/modprobe ip_masq_vdolive'],
  ['quake', '/sbin/modprobe ip_masq_quake'],
]

if (missing) t.fail(missing)
else
  for (const [how, apply] of APPLY)
    t.test(how, async (t) => {
      await withLab(async (lab) => {
        offloadOff(lab)
        for (const [peer, line] of MODULES)
          await t.test(line, async (t) => {
            const exchange = async (t: Tap, withModule: boolean) => {
              resetGateway(lab)
              apply(t, lab, gatewayScript(tmp, peer, line, withModule))
              return EXCHANGES[peer](labPair(lab))
            }
            await t.test('without the module line', async (t) => MASQ_ONLY[peer](t, await exchange(t, false)))
            await t.test('with it', async (t) => THROUGH_MODULE[peer](t, await exchange(t, true)))
          })
      })
    })
