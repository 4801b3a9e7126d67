// bin/ipchains
import { basename } from 'node:path'
import { TABLE_NAME } from '../translate/ipchains/render.ts'
import { readConntrack } from '../runtime/conntrack.ts'
import { readForwarding } from '../runtime/forwarding.ts'
import { nftTableStore } from '../runtime/store.ts'
import { realSys } from '../runtime/sys.ts'
import { startRuntime } from '../runtime/runtime.ts'
import { ipchainsMain } from '../tools/ipchains.ts'

const program = process.env['LEGACYFW_ARGV0'] ?? basename(process.argv[1] ?? 'ipchains')
void ipchainsMain(process.argv.slice(2), realSys(program), {
  store: nftTableStore('ip', TABLE_NAME),
  conntrack: readConntrack,
  forwarding: readForwarding,
  startRuntime,
}).then((status) => {
  process.exitCode = status
})
