// ip_masq_ftp: PORT and 227 replies rewritten, holes for the data
// connection: the kernel's ftp helper (nf_conntrack_ftp, nf_nat_ftp).
import { kernelHelper } from './kernel-helper.ts'

export const renderFtp = kernelHelper('ftp', 'tcp')
