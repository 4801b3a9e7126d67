// dist/entry-runtime.cjs: the resident runtime, exec'd by perl with its sockets (runtime/netlink.ts).
import { runRuntime } from '../runtime/runtime.ts'

runRuntime()
