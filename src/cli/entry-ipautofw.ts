// bin/ipautofw
import { basename } from 'node:path'
import { nftTableStore } from '../runtime/store.ts'
import { realSys } from '../runtime/sys.ts'
import { AUTOFW_TABLE } from '../translate/ipautofw/render.ts'
import { ipautofwMain } from '../tools/ipautofw.ts'

const program = process.env['LEGACYFW_ARGV0'] ?? basename(process.argv[1] ?? 'ipautofw')
void ipautofwMain(process.argv.slice(2), realSys(program), { store: nftTableStore('ip', AUTOFW_TABLE) }).then((status) => {
  process.exitCode = status
})
