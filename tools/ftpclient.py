#!/usr/bin/env python3
# An FTP client for the helper lab tests: logs in anonymously to HOST PORT,
# fetches hello.txt in MODE (active: PORT with the client's own address;
# pasv: connects to the address the 227 reply names, as 2.2-era clients
# did) and prints one JSON line: {"ok": true, "data": ...} or the error.
import ftplib
import json
import sys

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ftp = ftplib.FTP(timeout=4)
try:
    ftp.connect(host, port)
    ftp.login()
    ftp.set_pasv(mode == 'pasv')
    ftp.trust_server_pasv_ipv4_address = True
    chunks = []
    ftp.retrbinary('RETR hello.txt', chunks.append)
    print(json.dumps({'ok': True, 'data': b''.join(chunks).decode()}))
except Exception as e:  # noqa: BLE001 - every failure is the test's result
    print(json.dumps({'ok': False, 'error': f'{type(e).__name__}: {e}'}))
finally:
    try:
        ftp.close()
    except Exception:  # noqa: BLE001
        pass
