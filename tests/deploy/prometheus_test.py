#!/usr/bin/env python3
"""The dashboard and the alert rules against a real Prometheus.

Starts gcstream-emulator and `gcstream run` on loopback (a tenant that
streams, and one whose secret is refused), drops the streaming tenant's
socket, and lets Debian's Prometheus scrape gcstream every second with
deploy/prometheus/gcstream-alerts.yml loaded. Then, through Prometheus'
HTTP API:
  - every expression of the rules and of deploy/grafana/gcstream.json runs
    without an error;
  - every gcstream_* metric they use has series, and every label they use
    (in a matcher, `by`, `on` or `ignoring`) is on a series of a metric of
    that expression;
  - the series a user sees in the scenario are there: the refused tenant's
    fatal token failure, the dropped socket by its reason, the delivered
    events by sink;
  - GcstreamTenantFailed fires for the refused tenant, and for it alone.

  prometheus_test.py GCSTREAM GCSTREAM_EMULATOR SOURCE_DIR
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

gcstream, emulator, src = (os.path.abspath(a) for a in sys.argv[1:4])
tmp = tempfile.mkdtemp(prefix="gcstream-prom-")
children = []


def fail(msg):
    print("prometheus_test: " + msg, file=sys.stderr)
    for name in ("gcstream.err", "prometheus.log"):
        path = os.path.join(tmp, name)
        if os.path.exists(path):
            print("--- " + name, file=sys.stderr)
            print(open(path).read()[-4000:], file=sys.stderr)
    sys.exit(1)


def start(args, log):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, log), "w"),
                         text=True)
    children.append(p)
    return p


def until(what, check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    fail("timed out waiting for " + what)


def http(url, data=None):
    req = urllib.request.Request(url, data=data.encode() if data else None,
                                 headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def free_port():
    # Prometheus takes no port 0 it would tell us of: ask the OS for a free
    # one, on loopback only.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


try:
    # The emulator prints its URL once it listens on an OS-chosen port.
    emu = start([emulator, "--client", "app:s3cret-Value"], "emulator.log")
    line = emu.stdout.readline()
    m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if not m:
        fail("the emulator did not say where it listens: " + line)
    base = m.group(1)

    user = "v2.users.6d2c5a1e-0000-0000-0000-0000000000e1"
    config = {
        "tenants": [
            {"id": "good", "login_url": base, "api_url": base, "client_id": "app",
             "client_secret_env": "GOOD_SECRET",
             "topics": [user + ".presence", user + ".routingStatus"],
             "sinks": [{"type": "file", "name": "archive",
                        "path": os.path.join(tmp, "events.jsonl")}]},
            {"id": "bad", "login_url": base, "api_url": base, "client_id": "app",
             "client_secret_env": "BAD_SECRET", "topics": [user + ".presence"],
             "sinks": [{"type": "null"}]},
        ],
        "metrics": {"listen": "127.0.0.1:0"},
    }
    cfg_path = os.path.join(tmp, "gcstream.json")
    json.dump(config, open(cfg_path, "w"))
    env = dict(os.environ, GOOD_SECRET="s3cret-Value", BAD_SECRET="not-the-secret")
    gc = subprocess.Popen([gcstream, "run", "--config", cfg_path], env=env,
                          stdout=subprocess.DEVNULL,
                          stderr=open(os.path.join(tmp, "gcstream.err"), "w"), text=True)
    children.append(gc)

    def metrics_port():
        m = re.search(r"metrics on port (\d+)", open(os.path.join(tmp, "gcstream.err")).read())
        return m.group(1) if m else None
    port = until("gcstream's metrics port", metrics_port)
    target = "127.0.0.1:" + port

    def streaming():
        text = http("http://" + target + "/metrics")
        return 'gcstream_connection_state{tenant="good",state="connected"} 1' in text
    until("the good tenant to connect", streaming)
    # A socket dropped: the reconnect shows by its reason.
    http(base + "/emulator/faults", json.dumps({"kind": "drop"}))

    rules = os.path.join(src, "deploy", "prometheus", "gcstream-alerts.yml")
    prom_port = free_port()
    prom_cfg = os.path.join(tmp, "prometheus.yml")
    open(prom_cfg, "w").write(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - %s\n"
        "scrape_configs:\n  - job_name: gcstream\n    static_configs:\n"
        "      - targets: ['%s']\n" % (rules, target))
    start(["prometheus", "--config.file=" + prom_cfg,
           "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
           "--web.listen-address=127.0.0.1:%d" % prom_port], "prometheus.log")
    api = "http://127.0.0.1:%d/api/v1/" % prom_port

    def api_get(path, **params):
        try:
            body = json.loads(http(api + path + "?" + urllib.parse.urlencode(params)))
        except urllib.error.HTTPError as e:
            body = json.loads(e.read().decode())
        except (urllib.error.URLError, ConnectionError):
            return None
        return body

    def query(expr):
        body = api_get("query", query=expr)
        if body is None:
            return None
        if body.get("status") != "success":
            fail("query %r: %s" % (expr, body.get("error")))
        return body["data"]["result"]

    def value(expr):
        r = query(expr)
        return float(r[0]["value"][1]) if r else None

    until("Prometheus to scrape gcstream",
          lambda: (value('up{job="gcstream"}') or 0) == 1
          and (value('count(gcstream_tenant_up)') or 0) == 2)
    until("the bad tenant to fail",
          lambda: value('gcstream_connection_state{tenant="bad",state="failed"}') == 1)
    until("the dropped socket to be counted",
          lambda: (value('gcstream_disconnects_total{tenant="good",reason="dropped"}') or 0) >= 1)

    # What the scenario shows a user.
    if value('gcstream_token_failures_total{tenant="bad",kind="fatal"}') != 1:
        fail("the refused tenant's fatal token failure is not 1")
    if value('gcstream_token_failures_total{tenant="good",kind="fatal"}') != 0:
        fail("the good tenant has a fatal token failure")
    # Fixed label sets are rendered at 0 before anything happens.
    for zero in ('gcstream_disconnects_total{tenant="bad",reason="heartbeat_timeout"}',
                 'gcstream_actor_restarts_total{tenant="good",kind="orderer"}',
                 'gcstream_token_failures_total{tenant="good",kind="throttled"}'):
        if value(zero) != 0:
            fail(zero + " is not rendered at 0")
    if (value('gcstream_connection_state{tenant="good",state="connected"}') or 0) != 1:
        until("the good tenant to be connected again",
              lambda: value('gcstream_connection_state{tenant="good",state="connected"}') == 1)
    if query('gcstream_events_delivered_total{tenant="good",sink="archive"}') == []:
        fail("no delivered series for the archive sink")

    # Every expression of the rules and of the dashboard.
    exprs = []
    rules_api = until("the rules to load",
                      lambda: (lambda b: b if b and b["data"]["groups"] else None)(api_get("rules")))
    for group in rules_api["data"]["groups"]:
        for rule in group["rules"]:
            exprs.append(("rule " + rule["name"], rule["query"]))
    if len(exprs) < 12:
        fail("only %d rules loaded" % len(exprs))
    dash = json.load(open(os.path.join(src, "deploy", "grafana", "gcstream.json")))
    # The dashboard as Grafana lays it out: unique panel ids, every panel
    # inside the 24 columns and overlapping no other, a query in each, and
    # no variable used that the dashboard does not define.
    defined = {v["name"] for v in dash["templating"]["list"]} | {"__rate_interval"}
    ids, cells = set(), set()
    for panel in dash["panels"]:
        if panel["id"] in ids:
            fail("panel id %d twice" % panel["id"])
        ids.add(panel["id"])
        g = panel["gridPos"]
        if g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24:
            fail("panel %s outside the 24 columns" % panel["title"])
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    fail("panel %s overlaps another" % panel["title"])
                cells.add((x, y))
        if panel["type"] != "row" and not panel.get("targets"):
            fail("panel %s has no query" % panel["title"])
        for used in re.findall(r"\$\{?(\w+)", json.dumps(panel)):
            if used not in defined:
                fail("panel %s uses $%s, not defined" % (panel["title"], used))
    for panel in dash["panels"]:
        for t in panel.get("targets", []):
            exprs.append(("panel " + panel["title"], t["expr"]))
    dash_vars = {"$__rate_interval": "1m", "$tenant": ".*"}

    problems = []
    has_series = {}

    def series_of(metric, label=None):
        key = (metric, label)
        if key not in has_series:
            sel = metric + ("{%s!=\"\"}" % label if label else "")
            has_series[key] = bool(query("count(%s)" % sel))
        return has_series[key]

    for where, expr in exprs:
        for k, v in dash_vars.items():
            expr = expr.replace(k, v)
        query(expr)  # fails the test on an error
        metrics = sorted(set(re.findall(r"\b(gcstream_[a-z_]+|up)\b", expr)))
        labels = set()
        for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
            labels.update(l.strip() for l in group.split(",") if l.strip())
        for sel in re.findall(r"\{([^}]*)\}", expr):
            labels.update(re.findall(r"([a-zA-Z_]+)\s*(?:=~|!~|!=|=)", sel))
        for metric in metrics:
            if not series_of(metric):
                problems.append("%s: %s has no series" % (where, metric))
        for label in labels:
            if not any(series_of(metric, label) for metric in metrics):
                problems.append("%s: no series of %s has label %s"
                                % (where, ", ".join(metrics), label))
    if problems:
        fail("\n  ".join(["what the rules and the dashboard use is missing:"] + problems))

    # The failed tenant's alert fires (it has no `for`), and only for it.
    def failed_alerts():
        r = query('ALERTS{alertname="GcstreamTenantFailed",alertstate="firing"}')
        return r if r else None
    firing = until("GcstreamTenantFailed to fire", failed_alerts)
    tenants = sorted(a["metric"]["tenant"] for a in firing)
    if tenants != ["bad"]:
        fail("GcstreamTenantFailed fires for %s" % tenants)
    print("prometheus_test: ok (%d expressions, %d metric checks)" % (len(exprs), len(has_series)))
finally:
    for p in children:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in children:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
