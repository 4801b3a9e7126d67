// bin/ipfwadm
import { basename } from 'node:path'
import { TABLE_NAME } from '../translate/ipfwadm/render.ts'
import { readConntrack } from '../runtime/conntrack.ts'
import { readForwarding } from '../runtime/forwarding.ts'
import { readInterfaces } from '../runtime/interfaces.ts'
import { nftTableStore } from '../runtime/store.ts'
import { realSys } from '../runtime/sys.ts'
import { startViaWatch } from '../runtime/via-watch.ts'
import { startRuntime } from '../runtime/runtime.ts'
import { ipfwadmMain } from '../tools/ipfwadm.ts'

const program = process.env['LEGACYFW_ARGV0'] ?? basename(process.argv[1] ?? 'ipfwadm')
void ipfwadmMain(process.argv.slice(2), realSys(program), {
  store: nftTableStore('ip', TABLE_NAME),
  conntrack: readConntrack,
  forwarding: readForwarding,
  interfaces: readInterfaces,
  watchVia: startViaWatch,
  startRuntime,
}).then((status) => {
  process.exitCode = status
})
