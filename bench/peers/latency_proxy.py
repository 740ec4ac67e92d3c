#!/usr/bin/env python3
"""Adds LATENCY_MS before forwarding each HTTP request to 127.0.0.1:UPSTREAM, so a local moto_server
answers with something closer to real AWS's round-trip time (tens of ms instead of moto's few).
One request per connection (moto closes every connection anyway).

    latency_proxy.py LISTEN_PORT UPSTREAM_PORT LATENCY_MS
"""
import asyncio
import sys

LISTEN, UPSTREAM, LATENCY = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000


async def handle(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length) if length else b""
        await asyncio.sleep(LATENCY)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", UPSTREAM)
        up_writer.write(head + body)
        await up_writer.drain()
        response = await up_reader.read()
        up_writer.close()
        writer.write(response)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN, backlog=512)
    async with server:
        await server.serve_forever()


asyncio.run(main())
