// bin/ipautofw
import { basename } from 'node:path'
import { nftFwStore } from '../runtime/fwstore.ts'
import { realSys } from '../runtime/sys.ts'
import { AUTOFW_TABLE } from '../translate/ipmasqadm/state.ts'
import { ipautofwMain } from '../tools/ipmasqadm.ts'

const program = process.env['LEGACYFW_ARGV0'] ?? basename(process.argv[1] ?? 'ipautofw')
void ipautofwMain(process.argv.slice(2), realSys(program), { store: nftFwStore(AUTOFW_TABLE) }).then((status) => {
  process.exitCode = status
})
