"""The fixture website: sample business sites served on loopback, one port per site, so the
local run and the tests discover, crawl and extract real pages without the internet.

Each site covers extraction cases: mailto with a query, obfuscated [at]/[dot] text,
Cloudflare's data-cfemail and /cdn-cgi/l/email-protection, JSON-LD with @graph, tel links,
text phones, a Latin-1 page, image names and platform addresses that must be ignored, and a
site whose robots.txt disallows crawling.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent

SITES = {
    "sunrise-yoga": {
        "/": "sunrise-yoga.html",
        "/about.html": "sunrise-yoga-about.html",
        "/contact.html": "sunrise-yoga-contact.html",
        "/robots.txt": "User-agent: *\nDisallow: /private/\n",
    },
    "pilates-madrid": {"/": "pilates-madrid.html", "/robots.txt": None},
    "quiet-zen": {"/": "private-robots.html", "/robots.txt": "User-agent: *\nDisallow: /\n"},
}
# Pages in the layouts of real sites (layouts/expected.json says what each holds), served only
# when asked for (FixtureSites(LAYOUT_SITES)): a WhatsApp-only salon, a Next.js clinic whose
# contacts are in its JSON, and a page its scripts draw with nothing in the HTML.
LAYOUT_SITES = {
    "peluqueria": {"/": "layouts/peluqueria-madrid.html", "/robots.txt": None},
    "clinica": {"/": "layouts/nextjs-clinica.html", "/robots.txt": None},
    "react-shell": {"/": "layouts/react-shell.html", "/robots.txt": None},
}


class FixtureSites:
    """Starts one loopback HTTP server per site; `urls` are what the fixture search returns."""

    def __init__(self, sites: dict | None = None):
        self.sites = SITES if sites is None else sites
        self.servers: list[ThreadingHTTPServer] = []
        self.urls: list[str] = []

    def start(self) -> FixtureSites:
        for pages in self.sites.values():
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(pages))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
            self.urls.append(f"http://127.0.0.1:{server.server_address[1]}/")
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FixtureSites:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _handler(pages: dict[str, str | None]):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            if path not in pages or pages[path] is None:
                self.send_error(404)
                return
            entry = pages[path]
            if path == "/robots.txt":
                body, ctype = entry.encode(), "text/plain"
            else:
                text = (HERE / entry).read_text(encoding="utf-8")
                latin = 'charset="iso-8859-1"' in text
                body = text.encode("iso-8859-1" if latin else "utf-8")
                ctype = "text/html; charset=iso-8859-1" if latin else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler
