// The configuration of a private vsftpd: anonymous, read-only, in the
// foreground, on one address and port, active data from port 20, the
// protocol logged to a file when one is named. Plain JavaScript: the
// benchmarks use it too.

/** vsftpd.conf text for a server on `address`:`port` serving `anonRoot` (`emptyDir`: its chroot stand-in). */
export const vsftpdConfig = ({ address, port = 21, anonRoot, emptyDir, logFile }) =>
  [
    'listen=YES',
    'listen_ipv6=NO',
    `listen_address=${address}`,
    `listen_port=${port}`,
    'background=NO',
    'anonymous_enable=YES',
    'no_anon_password=YES',
    `anon_root=${anonRoot}`,
    'local_enable=NO',
    'write_enable=NO',
    `secure_chroot_dir=${emptyDir}`,
    'seccomp_sandbox=NO',
    'isolate=NO',
    'isolate_network=NO',
    'connect_from_port_20=YES',
    ...(logFile ? ['xferlog_enable=YES', 'xferlog_std_format=NO', 'log_ftp_protocol=YES', `vsftpd_log_file=${logFile}`] : []),
    '',
  ].join('\n')
