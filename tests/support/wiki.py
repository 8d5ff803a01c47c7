"""A wiki on another origin (a loopback port of its own), serving whatever page a test publishes."""
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def wiki_server():
    """Yields (origin, publish): publish(html) sets what every path of the wiki serves."""
    pages = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", lambda html: pages.update(html=html)
    finally:
        server.shutdown()
        server.server_close()
