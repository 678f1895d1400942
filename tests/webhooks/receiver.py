"""A local HTTP receiver for webhook tests: records each request and answers with
the status codes it is given, in turn (the last one repeats)."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: str

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    codes: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    gate: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.requests.append(Received(headers, body))
            receiver.arrived.set()
            if receiver.gate is not None:
                receiver.gate.wait(10)
            codes = receiver.codes
            code = codes.pop(0) if len(codes) > 1 else codes[0]
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if code < 300 else b"receiver down")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
