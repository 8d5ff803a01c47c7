"""An HTTP server of a test's own on a free loopback port, for what lies outside the project
(an attacker's server, Turso Cloud's token check)."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Loopback:
    """Calls ``answer(handler)`` for every GET and POST at ``url`` until closed; ``requests`` lists
    each request's (method, path, headers) in the order they came."""

    def __init__(self, answer):
        self.requests = []
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                loopback.requests.append((self.command, self.path, dict(self.headers)))
                answer(self)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
