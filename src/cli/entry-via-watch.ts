// dist/entry-via-watch.cjs: the -V set watcher, started by ipfwadm.
import { runViaWatch } from '../runtime/via-watch.ts'

runViaWatch()
