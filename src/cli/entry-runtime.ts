// dist/entry-runtime.cjs: the resident runtime, exec'd by perl with its sockets (runtime/netlink.ts).
import { STAY, runRuntime } from '../runtime/runtime.ts'

runRuntime(process.argv.includes(STAY))
