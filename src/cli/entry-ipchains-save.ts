// bin/ipchains-save
import { TABLE_NAME } from '../translate/ipchains/render.ts'
import { nftTableStore } from '../runtime/store.ts'
import { realSys } from '../runtime/sys.ts'
import { ipchainsSaveMain } from '../tools/ipchains-save.ts'

void ipchainsSaveMain(process.argv.slice(2), realSys('ipchains-save'), {
  store: nftTableStore('ip', TABLE_NAME),
}).then((status) => {
  process.exitCode = status
})
