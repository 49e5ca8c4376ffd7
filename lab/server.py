"""Starting the app: `python -m lab.server [script.py] [streamlit options]` (make run, make class; the
script is app.py unless named), and `running()`,
the app on a free local port for the browser tests and the benchmarks.

`python -m lab.server` is `streamlit run app.py [options]`, with one Streamlit relic switched off,
the heap of imported libraries frozen out of garbage collection (freeze_heap) and Streamlit's
index.html served with a preload link for the charts' plotly.js (load_plotly_with_the_page).

Streamlit still supports its older, file-based multipage apps: while no script has called
st.navigation, a `pages/` folder beside the main script makes the first request of a fresh server
run through that older mechanism. A first visitor who opens a deep link (a shared link to a lesson)
then gets that page run on its own, or a "page not found" dialog, instead of app.py's navigation.
This project's pages live in `pages/` but are navigated by app.py (st.navigation), so the flag is
set before the server starts. Pinned streamlit==1.67.0; tests/test_browser.py opens every page by
its link first and checks that the app's navigation is there.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(extra: list[str] | None = None, env: dict | None = None, root: str | Path | None = None,
            script: str | Path | None = None):
    """The app server for the duration of a with-block; yields (url, process). `root`: run the app
    in another checkout (an older one is started as it was: serve.py, or `streamlit run app.py`).
    `script`: serve this script instead of the app, as the app is served (its folder holds its
    .streamlit settings; bench/browser.py's floor page)."""
    port = free_port()
    root = Path(root or ROOT)
    start = (["-m", "lab.server"] if (root / "lab" / "server.py").exists()
             else ["serve.py"] if (root / "serve.py").exists() else ["-m", "streamlit", "run", "app.py"])
    if script is not None:
        start, root = ["-m", "lab.server", str(script)], Path(script).parent
        env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), **(env or {})}
    log = open(os.environ["MMLAB_SERVER_LOG"], "ab") if os.environ.get("MMLAB_SERVER_LOG") else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, *start, "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", *(extra or [])],
        cwd=root, stdout=log, stderr=log, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.25)
        else:
            raise RuntimeError(f"the streamlit server in {root} did not start")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def running_behind_haproxy(processes: int, root: str | Path | None = None, extra: list[str] | None = None,
                           env: dict | None = None):
    """`processes` app servers behind HAProxy with cookie stickiness (deploy/haproxy.cfg's setup, on
    free local ports); yields (url, [server processes])."""
    import tempfile

    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(running(extra=extra, root=root, env=env)) for _ in range(processes)]
        port = free_port()
        config = Path(tempfile.mkdtemp()) / "haproxy.cfg"
        lines = (ROOT / "deploy" / "haproxy.cfg").read_text().split("\nbackend app")[0] + "\n"
        lines = lines.replace("bind *:8501", f"bind 127.0.0.1:{port}")
        lines += "backend app\n    balance roundrobin\n    cookie MMLAB insert indirect nocache\n"
        lines += "".join(f"    server app{i} {url.split('//')[1]} cookie app{i}\n" for i, (url, _) in enumerate(servers))
        config.write_text(lines)
        proxy = subprocess.Popen(["haproxy", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(40):
                try:
                    urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.25)
            yield url, [p for _, p in servers]
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)


BLAS_THREADS = "1"  # one BLAS thread per app process: measured with bench/load.py (README, "BLAS threads")
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> int:
    if not any(v in os.environ for v in BLAS_VARIABLES):
        # numpy was imported (by the lab package) before this line: its BLAS read the environment
        # then. Start again with one thread per process, unless the operator chose otherwise.
        os.environ.update({v: BLAS_THREADS for v in BLAS_VARIABLES})
        os.execv(sys.executable, [sys.executable, "-m", "lab.server", *sys.argv[1:]])
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    args = sys.argv[1:]
    script = args.pop(0) if args and args[0].endswith(".py") else str(ROOT / "app.py")  # running(script=)
    sys.argv = ["streamlit", "run", script, *args]
    if os.environ.get(COLLECTIONS_LOG):
        log_collections(os.environ[COLLECTIONS_LOG])
    load_plotly_with_the_page()
    answer_without_delay()
    freeze_heap()
    return cli.main()


# The charts' plotly.js (lab/chart.py), fetched as the page opens: lab/chart.js's script element then
# finds it in the browser's cache.
PLOTLY_TAG = '<link rel="preload" as="script" href="./app/static/plotly-lab.min.js">'


def load_plotly_with_the_page() -> None:
    """Serve Streamlit's index.html with a preload link for the charts' plotly.js (issue 16).

    In a trace of a lesson's first load the browser waits idle for most of its first second (Streamlit's
    chunks, then the server's first message); the first chart element asked for plotly.js only after the
    page's elements had mounted, ~2.0 s after navigation, then waited for the download. Preloaded, the
    bundle is in the cache by then. Measured (8 fresh tabs a page, medians, interleaved): first chart
    random intercepts 2.10 -> 2.08 s, ICC 2.11 -> 1.98 s, shrinkage 2.15 -> 2.10 s; a second run gave
    -56, -125 and -54 ms. Tried and not kept: the bundle run by index.html (`defer` or `async`), which
    delayed the server's first message by ~0.4 s (its ~0.3 s of evaluation in the way) and the first
    chart with it; modulepreload links for the lazy chunks of the lessons' widgets (slider, select box,
    ...), which delayed the first message by ~0.2 s and gained nothing (tried again once the chunks
    came without Nagle's delay, answer_without_delay: the first message 0.11 s later, the first chart
    within noise, 8 fresh tabs of three lessons).

    Pinned streamlit==1.67.0: its static handler is made by
    starlette_static_routes.create_streamlit_static_handler, whose get_response is wrapped here (a
    page's address and / both answer with index.html). tests/test_browser.py checks that a page has the
    link and that the link's file is served."""
    import hashlib

    from starlette.responses import FileResponse, Response
    from streamlit.web.server.starlette import starlette_static_routes as routes

    make = routes.create_streamlit_static_handler

    def handler(directory: str, base_url: str | None):
        static = make(directory, base_url)
        page = Path(directory, "index.html").read_text()
        page = page.replace("</head>", f"  {PLOTLY_TAG}\n  </head>", 1)
        etag = f'"{hashlib.sha1(page.encode()).hexdigest()}"'  # the rewritten page's own
        served = static.get_response

        async def get_response(path, scope):
            headers = dict(scope.get("headers") or [])
            if path in ("", ".", "index.html"):  # the page itself: not "not modified" by the original's tag
                scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers") or []
                                              if k not in (b"if-none-match", b"if-modified-since")]}
            response = await served(path, scope)
            if isinstance(response, FileResponse) and Path(response.path).name == "index.html":
                cache = {"Cache-Control": response.headers.get("Cache-Control", "no-cache"), "ETag": etag}
                if headers.get(b"if-none-match", b"").decode("latin-1") == etag:
                    return Response(status_code=304, headers=cache)
                return Response(page, media_type="text/html", headers=cache)
            return response

        static.get_response = get_response
        return static

    routes.create_streamlit_static_handler = handler


def answer_without_delay() -> None:
    """Send every reply at once: TCP_NODELAY on the server's connections (issue 16).

    Streamlit 1.67 binds its listening socket itself (starlette_server._bind_socket) as
    socket.socket(family), whose protocol number is 0; asyncio sets TCP_NODELAY only on a connection
    whose socket says IPPROTO_TCP (base_events._set_nodelay), so every connection kept Nagle's
    algorithm. A reply written in two parts (an HTTP response's head and body) then waited for the
    browser's delayed acknowledgement of the first: 40 ms. Measured: a static file on a kept-alive
    connection in 44 ms instead of 1-2; Streamlit's ~110 JavaScript chunks, fetched 6 at a time as
    Chromium does, in 780 ms instead of 165 (the first chart ~0.3 s sooner; a slider press's messages
    were not measurably held up). The listening socket is
    handed on as the same file with its protocol said, so asyncio sets the option on each connection."""
    import socket

    from streamlit.web.server.starlette import starlette_server

    bind = starlette_server._bind_socket

    def bind_socket(address: str, port: int, backlog: int) -> socket.socket:
        sock = bind(address, port, backlog)
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.setblocking(False)
        return tcp

    starlette_server._bind_socket = bind_socket


def freeze_heap() -> None:
    """Leave what was imported out of Python's full garbage collections (gc.freeze).

    Under a class a full collection ran every 5-7 s and stopped every session for 110-190 ms, most of
    it walking the ~150,000 objects of numpy, scipy, pandas, plotly and Streamlit, which live as long
    as the process (bench/load.py prints the pauses). The lab package, and with it everything a page
    needs, is imported by now (this module is in it), so frozen here they are never walked again;
    what the app makes afterwards (cached fits and figures, sessions) is collected as before.
    Measured (bench/load.py, random slopes and shrinkage): full collections of 32-124 ms instead of 110-190 ms."""
    import gc

    gc.collect()
    gc.freeze()


COLLECTIONS_LOG = "MMLAB_GC_LOG"  # a file: each garbage collection's generation and milliseconds (bench/load.py)


def log_collections(path: str) -> None:
    import atexit
    import gc

    out = open(path, "a", buffering=1)
    started = [0.0]

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            out.write(f"{info['generation']} {(time.perf_counter() - started[0]) * 1e3:.1f}\n")

    gc.callbacks.append(note)
    atexit.register(gc.callbacks.remove, note)  # no collection at exit writes to a closed file


if __name__ == "__main__":
    sys.exit(main())
