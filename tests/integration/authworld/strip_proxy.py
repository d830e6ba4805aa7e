"""A forwarder that returns no DNSSEC signatures, as many home routers and some cloud
resolvers do: a UDP DNS proxy on 127.0.0.1 that asks the test world's NSD (over TCP, so
nothing is truncated) and hands back the reply without its RRSIG records, with the AD and DO
bits cleared.

Run under Debian's /usr/bin/python3 (python3-dnspython): `strip_proxy.py UPSTREAM_PORT`
prints the port it answers on, one line, and serves until its stdin closes."""
import socket
import sys
import threading

import dns.flags
import dns.message
import dns.query
import dns.rdatatype


def stripped(reply: dns.message.Message) -> bytes:
    for section in (reply.answer, reply.authority, reply.additional):
        section[:] = [rrset for rrset in section if rrset.rdtype != dns.rdatatype.RRSIG]
    reply.flags &= ~dns.flags.AD
    reply.ednsflags &= ~dns.flags.DO
    return reply.to_wire()


def answer(sock: socket.socket, data: bytes, peer, upstream: int) -> None:
    try:
        query = dns.message.from_wire(data)
        reply = dns.query.tcp(query, "127.0.0.1", port=upstream, timeout=5)
        sock.sendto(stripped(reply), peer)
    except Exception as e:  # one bad query must not stop the proxy
        print(f"strip_proxy: {e!r}", file=sys.stderr, flush=True)


def main() -> None:
    upstream = int(sys.argv[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)

    def serve():
        while True:
            data, peer = sock.recvfrom(65535)
            threading.Thread(target=answer, args=(sock, data, peer, upstream),
                             daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    sys.stdin.read()  # the parent closes it (or exits) to stop the proxy


if __name__ == "__main__":
    main()
