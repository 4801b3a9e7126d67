// bin/ipmasqadm
import { basename } from 'node:path'
import { nftTableStore } from '../runtime/store.ts'
import { realSys } from '../runtime/sys.ts'
import { MASQADM_TABLE } from '../translate/ipmasqadm/state.ts'
import { ipmasqadmMain } from '../tools/ipmasqadm.ts'

const program = process.env['LEGACYFW_ARGV0'] ?? basename(process.argv[1] ?? 'ipmasqadm')
void ipmasqadmMain(process.argv.slice(2), realSys(program), { store: nftTableStore('ip', MASQADM_TABLE) }).then((status) => {
  process.exitCode = status
})
