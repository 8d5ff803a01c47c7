"""The load benchmark's other parties: an HTTP client of the site, the memorygraph writer
process, and readings of processes' memory and CPU time from /proc."""
import http.client
import json
import os
import re
from urllib.parse import urlencode

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The memorygraph server's writes, by the real package (memorygraphMCP 0.12.4) as its MCP server
# drives it: one backend with one long-lived stdlib connection. Every --every seconds it stores a
# memory and relates it to an existing one, then prints the id and the time of the commit.
# The backend is never disconnected: its disconnect writes its whole in-memory graph back.
MEMORYGRAPH_WRITER = """
import asyncio, json, random, sys, time
from memorygraph.backends.sqlite_fallback import SQLiteFallbackBackend
from memorygraph.models import Memory, MemoryType, RelationshipProperties, RelationshipType
from memorygraph.sqlite_database import SQLiteMemoryDatabase
path, every, ids = sys.argv[1], float(sys.argv[2]), json.load(open(sys.argv[3]))
backend = SQLiteFallbackBackend(db_path=path)
asyncio.run(backend.connect())
db = SQLiteMemoryDatabase(backend)
rng = random.Random(5)
print(json.dumps({"ready": time.time()}), flush=True)
n = 0
while True:
    time.sleep(every)
    n += 1
    memory_id = asyncio.run(db.store_memory(Memory(
        type=MemoryType.SOLUTION, title=f"Agent note {n}: retry the flaky deploy step",
        content="Seen again while load testing; the retry with backoff fixed it.", tags=["bench", "agent"])))
    asyncio.run(db.create_relationship(memory_id, rng.choice(ids), RelationshipType.RELATED_TO,
                                       RelationshipProperties(strength=0.5)))
    print(json.dumps({"id": memory_id, "at": time.time()}), flush=True)
"""


class Site:
    """One logged-in keep-alive connection to the site (one per thread: http.client is not shared)."""

    def __init__(self, port, cookies=None):
        self.port = port
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, form=None):
        """(status, headers, body bytes); the connection is reopened once if the server closed it."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": "127.0.0.1"}
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), data

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, form):
        return self.request("POST", path, form)

    def login(self, username, password):
        self.get("/accounts/login/")
        status, headers, _ = self.post("/accounts/login/", {"username": username, "password": password})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"logging in as {username} failed (HTTP {status})")

    def close(self):
        self.conn.close()


def memory_id_from(location):
    match = re.search(r"/memories/([^/]+)/$", location or "")
    return match and match.group(1)


def children(pid):
    """The pids of a process's children (gunicorn's workers; the worker's freshness process and
    analytics full runs), whichever of its threads started them (each thread lists its own)."""
    found = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                found += [int(p) for p in handle.read().split()]
        except OSError:
            continue
    return found


def memory_kb(pid):
    """{"rss": VmRSS, "hwm": VmHWM} in kB (the peak is the kernel's own high-water mark)."""
    values = {}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    values[line[2:5].lower()] = int(line.split()[1])
    except OSError:
        pass
    return values


def cpu_seconds(pid, *, ended_children=False):
    """User + system CPU seconds of a process so far (all its threads), or, ``ended_children``, of
    its children that have ended and been waited for (the worker's analytics full runs)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    first = 13 if ended_children else 11
    return (int(fields[first]) + int(fields[first + 1])) / CLOCK_TICKS


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def write_ids(path, ids):
    with open(path, "w") as handle:
        json.dump(ids, handle)
