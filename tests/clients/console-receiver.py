#!/usr/bin/env python3
"""A --console-socket receiver for tests: accept connections on PATH, take
the pty master each one sends (SCM_RIGHTS) and drain it until it hangs up."""
import array, os, select, socket, sys

path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(16)
masters = []
while True:
    r, _, _ = select.select([srv] + masters, [], [])
    for f in r:
        if f is srv:
            conn, _ = srv.accept()
            fds = array.array("i")
            msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_LEN(4 * fds.itemsize))
            for level, typ, data in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            masters += [os.fdopen(fd, "rb", buffering=0) for fd in fds]
            conn.close()
        else:
            try:
                data = os.read(f.fileno(), 4096)
            except OSError:
                data = b""
            if not data:
                masters.remove(f)
                f.close()
