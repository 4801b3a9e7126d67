// bin/ipchains-restore
import { TABLE_NAME } from '../translate/ipchains/render.ts'
import { readConntrack } from '../runtime/conntrack.ts'
import { readForwarding } from '../runtime/forwarding.ts'
import { nftTableStore } from '../runtime/store.ts'
import { realSys } from '../runtime/sys.ts'
import { startRuntime } from '../runtime/runtime.ts'
import { ipchainsRestoreMain } from '../tools/ipchains-restore.ts'

void ipchainsRestoreMain(process.argv.slice(2), realSys('ipchains-restore'), {
  store: nftTableStore('ip', TABLE_NAME),
  conntrack: readConntrack,
  forwarding: readForwarding,
  startRuntime,
}).then((status) => {
  process.exitCode = status
})
