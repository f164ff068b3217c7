#!/usr/bin/env python3
"""Send bytes through a loopback TCP connection for DURATION seconds (default 15)."""
import os
import socket
import threading
import time

duration = float(os.environ.get("DURATION", 15))
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)


def drain():
    conn, _ = server.accept()
    while conn.recv(1 << 20):
        pass


threading.Thread(target=drain, daemon=True).start()
client = socket.create_connection(server.getsockname())
chunk = b"x" * (1 << 20)
end = time.monotonic() + duration
while time.monotonic() < end:
    client.sendall(chunk)
    time.sleep(0.002)  # ~0.5 GB/s: a clear signal without starving the other helpers' work
client.close()
