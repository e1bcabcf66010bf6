"""Peak RSS growth of a Faultline release server for the worst requests found (issue 18).

Usage: python3 tests/bench/rss.py path/to/faultline
Each case gets a fresh server on a fresh SQLite file, 20 warm-up events, then the request;
the growth is the change of VmHWM (/proc/PID/status). Listens on 127.0.0.1:8111.
"""
# Peak RSS growth of a running Faultline (release) for each hostile request, one at a time.
import gzip, json, os, subprocess, sys, time, urllib.request, uuid
binary = sys.argv[1]
work = "/tmp/faultline-rss"; subprocess.run(["rm", "-rf", work]); os.makedirs(work)
env = dict(os.environ, FAULTLINE_DATABASE_URL=f"sqlite://{work}/f.db", FAULTLINE_LISTEN="127.0.0.1:8111", FAULTLINE_LOG="error")
subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True)
out = subprocess.run([binary, "project", "create", "bench"], env=env, check=True, capture_output=True, text=True).stdout
dsn = [w for w in out.split() if w.startswith("http://")][-1]
key, rest = dsn[7:].split("@"); project = rest.split("/")[-1]
srv = None
def start():
    global srv
    srv = subprocess.Popen([binary, "serve"], env=env)
    for _ in range(100):
        try: urllib.request.urlopen("http://127.0.0.1:8111/login"); break
        except Exception: time.sleep(0.1)
def hwm():
    for line in open(f"/proc/{srv.pid}/status"):
        if line.startswith("VmHWM"): return int(line.split()[1]) * 1024
def post(body, headers):
    req = urllib.request.Request(f"http://127.0.0.1:8111/api/{project}/envelope/", data=body, headers=headers, method="POST")
    t = time.time()
    try: s = urllib.request.urlopen(req).status
    except urllib.error.HTTPError as e: s = e.code
    return s, time.time() - t
auth = {"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={key}"}
ev = json.dumps({"message": "warm"}).encode()
warm = b"{}\n" + b'{"type":"event","length":%d}\n' % len(ev) + ev + b"\n"
items = b'{"type":"x","length":0}\n\n' * 1_300_000
att = os.urandom(9 << 20)
cases = [
    ("1.3M items gzip, no key", gzip.compress(b"{}\n" + items), {"Content-Encoding": "gzip"}),
    ("1.3M items gzip, dsn key", gzip.compress(b'{"dsn":"%s"}\n' % dsn.encode() + items[:600_000 * 26]), {"Content-Encoding": "gzip"}),
    ("1.3M items gzip, header key", gzip.compress(b"{}\n" + items), dict(auth, **{"Content-Encoding": "gzip"})),
    ("20 MiB of zeros gzip bomb, header key", gzip.compress(b"{}\n" + b"\0" * (200 << 20)), dict(auth, **{"Content-Encoding": "gzip"})),
    ("two 9 MiB attachments + event, 19 MB plain, header key", b"{}\n" + b'{"type":"event","length":%d}\n' % len(ev) + ev + b"\n" + b''.join(b'{"type":"attachment","length":%d,"filename":"a"}\n' % len(att) + att + b"\n" for _ in range(2)), auth),
]
for name, body, headers in cases:
    start()
    for _ in range(20): post(warm, auth)
    before = hwm()
    s, secs = post(body, headers)
    time.sleep(0.3)
    print(f"{name}: {len(body):,} bytes sent -> HTTP {s} in {secs*1000:.0f} ms; peak RSS +{(hwm() - before) / 1e6:.1f} MB (peak {hwm() / 1e6:.0f} MB)")
    srv.terminate(); srv.wait()
