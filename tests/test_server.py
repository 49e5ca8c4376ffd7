"""lab.server's changes to how Streamlit serves: each connection sends without Nagle's delay."""
import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from streamlit.web.server.starlette import starlette_server

from lab.server import answer_without_delay


def nodelay_of_a_connection(bind) -> int:
    """TCP_NODELAY of a connection accepted by an asyncio server (as uvicorn's) on the socket `bind` makes."""
    async def main() -> int:
        listening = bind("127.0.0.1", 0, 8)
        seen = asyncio.get_running_loop().create_future()

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport):
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(Protocol, sock=listening)
        _, writer = await asyncio.open_connection(*listening.getsockname()[:2])
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()
    with ThreadPoolExecutor(1) as thread:  # a loop of its own (Playwright's may be running in this one)
        return thread.submit(asyncio.run, main()).result()


def test_each_connection_of_the_server_sends_without_delay():
    original = starlette_server._bind_socket
    # streamlit 1.67's own socket says protocol 0, so asyncio leaves Nagle's algorithm on (if this fails
    # after an upgrade, Streamlit has fixed it and answer_without_delay can go)
    assert nodelay_of_a_connection(original) == 0
    try:
        answer_without_delay()
        assert starlette_server._bind_socket is not original
        assert nodelay_of_a_connection(starlette_server._bind_socket) != 0
    finally:
        starlette_server._bind_socket = original
