#!/usr/bin/env python3
"""Writes mailsec's Grafana dashboards (packaging/grafana/dashboards/*.json) from the panel
lists below: one place for every panel's PromQL, unit and legend, so the five dashboards share
their conventions (a datasource variable, an instance filter, $__rate_interval for rates,
$__range for the totals of the time picked).

Every query uses only names and label values of docs/metrics.md (tests/grafana checks it, and
tests/integration/test_dashboards.py runs every query against a Prometheus that scraped a test
run). Run after editing: python3 packaging/grafana/build_dashboards.py [--check]."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "dashboards")

I = 'instance=~"$instance"'  # every selector carries the instance filter


def sel(extra: str = "") -> str:
    return "{" + I + ("," + extra if extra else "") + "}"


def total(metric: str, by: str = "", extra: str = "") -> str:
    """The increase of a counter over the time picked, summed (by `by`)."""
    group = f"sum by ({by}) " if by else "sum "
    return f"{group}(increase({metric}{sel(extra)}[$__range]))"


def rate(metric: str, by: str = "", extra: str = "") -> str:
    group = f"sum by ({by}) " if by else "sum "
    return f"{group}(rate({metric}{sel(extra)}[$__rate_interval]))"


def share(metric: str, part: str, whole: str = "", fn=total) -> str:
    """part / whole of one counter (an empty time range gives no value, not a zero)."""
    return f"{fn(metric, extra=part if not whole else whole + ',' + part)} / {fn(metric, extra=whole)}"


def legend_of(by: str) -> str:
    return " ".join("{{" + b.strip() + "}}" for b in by.split(",")) if by else "{{instance}}"


def panel(title, kind, targets, unit="short", w=12, h=8, description="", **extra):
    """targets: [(expr, legend)]; kind: stat, timeseries, bargauge, piechart, table, text."""
    return {"title": title, "type": kind, "targets": targets, "unit": unit, "w": w, "h": h,
            "description": description, **extra}


def bars(title, metric, by, extra="", description="", unit="short", w=8):
    return panel(title, "bargauge", [(total(metric, by, extra), legend_of(by))], unit=unit, w=w,
                 description=description, instant=True)


def series(title, metric, by, extra="", description="", unit="ops", w=12):
    return panel(title, "timeseries", [(rate(metric, by, extra), legend_of(by))], unit=unit,
                 w=w, description=description)


SESSIONS = "mailsec_sessions_total"
MESSAGES = "mailsec_messages_total"
TLS = "mailsec_tls_sessions_total"
MX = 'port_class="mx"'

DASHBOARDS = {
    "mailsec-overview": ("mailsec — overview", [
        panel("Inbound sessions over TLS", "stat",
              [(share(SESSIONS, 'tls="true"', MX), "sessions")], unit="percentunit", w=6,
              description="Share of SMTP sessions on MX ports that ended encrypted "
                          "(mailsec_sessions_total, port_class=mx), over the time picked.",
              instant=True),
        panel("Inbound messages over TLS", "stat",
              [(share(MESSAGES, 'tls="true"', MX), "messages")], unit="percentunit", w=6,
              description="Share of messages received on MX ports over TLS "
                          "(mailsec_messages_total, port_class=mx).", instant=True),
        panel("Forward secrecy", "stat", [(share(TLS, 'pfs="true"'), "forward secrecy")],
              unit="percentunit", w=6,
              description="Share of TLS sessions whose key exchange gives forward secrecy.",
              instant=True),
        panel("Client certificates presented", "stat",
              [(total("mailsec_client_certificates_total"), "certificates")], w=6,
              description="Sessions in which the client presented a certificate.", instant=True),
        panel("TLS share of inbound sessions and messages", "timeseries", [
            (share(SESSIONS, 'tls="true"', MX, fn=rate), "sessions"),
            (share(MESSAGES, 'tls="true"', MX, fn=rate), "messages"),
        ], unit="percentunit", w=12,
              description="IMC 2015 Figure 3 on your traffic: the share over TLS of MX sessions "
                          "and messages (weekends show as dips where senders are bulk)."),
        series("Sessions by port class and TLS", SESSIONS, "port_class, tls",
               description="SMTP sessions per second, counted at close."),
        bars("TLS versions", TLS, "version",
             description="TLS sessions by negotiated protocol version."),
        bars("Cipher classes", TLS, "class",
             description="TLS sessions by the class of their cipher suite "
                         "(recommended / secure / insecure / obsolete)."),
        bars("Authentication methods", "mailsec_auth_methods_total", "method",
             description="Messages by which methods passed (IMC 2015 Table 18): DKIM and SPF, "
                         "DKIM only, SPF only, none."),
        panel("Cipher suites", "table",
              [(total(TLS, "version, kex, cipher, mac, pfs, class"), "")], w=16, h=10,
              description="IMC 2015 Table 2: TLS sessions by version × key exchange × cipher × "
                          "MAC, with forward secrecy and class.", instant=True, table=True),
        bars("Client certificates", "mailsec_client_certificates_total", "verified",
             description="Presented client certificates by whether the MTA verified them.",
             w=8),
    ]),
    "mailsec-authentication": ("mailsec — authentication", [
        bars("SPF results", "mailsec_spf_results_total", "result",
             description="SPF checks of the MAIL FROM identity by result."),
        bars("SPF error classes", "mailsec_spf_results_total", "error",
             extra='result=~"temperror|permerror"',
             description="Why SPF checks ended in temperror or permerror (IMC 2015 Table 19)."),
        bars("DKIM failure reasons", "mailsec_dkim_signatures_total", "result, reason",
             extra='result!="pass"',
             description="DKIM signatures that did not verify, by verdict and reason "
                         "(IMC 2015 Table 9)."),
        bars("DKIM results", "mailsec_dkim_signatures_total", "result",
             description="DKIM signatures examined, by verdict."),
        bars("DKIM signing algorithms", "mailsec_dkim_signature_algorithms_total", "algorithm",
             description="DKIM signatures by a= (rsa-sha1 is deprecated by RFC 8301)."),
        bars("DMARC results", "mailsec_dmarc_results_total", "result",
             description="DMARC evaluations of the From domain."),
        bars("Senders' DMARC policies", "mailsec_dmarc_results_total", "policy",
             description="The policy the From domain publishes (IMC 2015 Table 22); absent: "
                         "no DMARC record."),
        bars("DNSSEC of authentication records", "mailsec_auth_records_total", "record, dnssec",
             description="SPF, DKIM-key and DMARC answers by DNSSEC status (unknown: "
                         "validation off)."),
        bars("Verdict sources", "mailsec_auth_verdict_sources_total", "source",
             description="Messages verified by mailsec, or read from a trusted "
                         "Authentication-Results header."),
        series("Authentication methods over time", "mailsec_auth_methods_total", "method",
               unit="ops", w=12, description="Messages per second by the methods that passed."),
        series("Verifications dropped", "mailsec_verifications_dropped_total", "source",
               unit="ops", w=12,
               description="Messages not verified because the verification queue was full."),
    ]),
    "mailsec-received": ("mailsec — Received paths", [
        bars("Message paths", "mailsec_message_paths_total", "path",
             description="Messages by the protection of their whole Received path: all hops "
                         "encrypted, a cleartext hop, or nothing judgeable."),
        bars("Hops by position and TLS", "mailsec_received_hops_total", "position, tls",
             description="Hops of Received chains: origin, relays, and the hop into this MTA."),
        bars("Hop protocols", "mailsec_received_hops_total", "protocol",
             description="The WITH protocol of each hop (ESMTPS, ESMTPSA, LMTP, HTTP, ...)."),
        bars("TLS versions of hops", "mailsec_received_hop_tls_versions_total",
             "position, version", description="Encrypted hops whose MTA named the TLS version."),
        bars("First cleartext hop", "mailsec_message_first_cleartext_hops_total", "position",
             description="Messages with a cleartext hop, by where the oldest one sat."),
        bars("Origin submissions", "mailsec_message_origin_submissions_total",
             "authenticated, tls",
             description="How the origin submitted each message (its oldest hop)."),
        panel("Hops per message", "timeseries", [
            ("histogram_quantile(0.5, sum by (le) (rate(mailsec_received_hops_per_message_bucket"
             + sel() + "[$__rate_interval])))", "median"),
            ("histogram_quantile(0.95, sum by (le) (rate(mailsec_received_hops_per_message_bucket"
             + sel() + "[$__rate_interval])))", "95th percentile"),
        ], unit="short", w=12, description="Received headers per message plus the live hop."),
        series("Received headers not analysed", "mailsec_received_headers_dropped_total",
               "reason", unit="ops", w=12,
               description="Headers over the per-message caps (the mail is unaffected)."),
        series("Unparsable Received headers", "mailsec_received_headers_unparsable_total",
               "kind", unit="ops", w=12,
               description="Received headers with broken structure or over the parser's bounds."),
    ]),
    "mailsec-downgrades": ("mailsec — STARTTLS downgrades", [
        bars("Suspected downgrades", "mailsec_downgrade_suspected_total", "signal", w=12,
             description="Sessions suspected of a STARTTLS downgrade over the time picked. "
                         "Which peers: mailsec-report --downgrades."),
        bars("Unknown commands", "mailsec_unknown_commands_total", "signature", w=12,
             description="Unknown SMTP commands; starttls_masked is a firewall's XXXXXXXX."),
        series("Suspected downgrades over time", "mailsec_downgrade_suspected_total", "signal",
               description="Sessions per second suspected of a downgrade, by signal."),
        panel("Cleartext share of inbound sessions", "timeseries",
              [(share(SESSIONS, 'tls="false"', MX, fn=rate), "cleartext")],
              unit="percentunit", w=12,
              description="A rise without a new sender is a downgrade candidate."),
    ]),
    "mailsec-operations": ("mailsec — operational health", [
        panel("Scrape targets up", "stat", [("up" + sel(), "{{instance}}")], unit="short", w=8,
              description="1: Prometheus reached the daemon's /metrics.", instant=True),
        panel("Running versions", "table",
              [("sum by (instance, version) (mailsec_build_info" + sel() + ")", "")], w=16,
              description="mailsec_build_info: which release each instance runs.", instant=True,
              table=True),
        series("Internal errors", "mailsec_errors_total", "component",
               description="mailsec failed open: the mail was unaffected."),
        series("Malformed input", "mailsec_input_errors_total", "source, kind",
               description="Malformed or over-long peer or MTA input, once per session and kind."),
        series("History store flushes", "mailsec_store_flushes_total", "",
               description="Successful flushes of the SQLite store (one transaction each)."),
        series("History store errors", "mailsec_store_errors_total", "kind",
               description="Store failures (retried at the next flush; Prometheus unaffected)."),
        series("Verifications dropped", "mailsec_verifications_dropped_total", "source",
               description="Messages not verified because the verification queue was full."),
        series("Policy requests", "mailsec_policyd_requests_total", "protocol_state",
               description="Requests mailsec-policyd answered (always DUNNO)."),
        series("Policy connections dropped", "mailsec_policyd_connections_dropped_total",
               "reason", description="Policy connections mailsec-policyd closed on its own."),
        series("Sessions per second", SESSIONS, "source",
               description="Traffic each front-end sees."),
    ]),
}


def render(uid: str, title: str, panels: list) -> dict:
    out = []
    x = y = row_h = 0
    for n, p in enumerate(panels, 1):
        if x + p["w"] > 24:
            x, y, row_h = 0, y + row_h, 0
        targets = []
        for i, (expr, legend) in enumerate(p["targets"]):
            t = {"refId": chr(ord("A") + i), "datasource": {"type": "prometheus",
                                                             "uid": "${datasource}"},
                 "expr": expr, "legendFormat": legend or "__auto", "range": not p.get("instant"),
                 "instant": bool(p.get("instant"))}
            if p.get("table"):
                t["format"] = "table"
            targets.append(t)
        defaults = {"unit": p["unit"], "min": 0}
        if p["unit"] == "percentunit":
            defaults["max"] = 1
        options = {}
        if p["type"] == "timeseries":
            options = {"legend": {"displayMode": "table", "placement": "bottom",
                                  "calcs": ["mean", "max"], "showLegend": True},
                       "tooltip": {"mode": "multi", "sort": "desc"}}
        elif p["type"] == "bargauge":
            options = {"displayMode": "basic", "orientation": "horizontal",
                       "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                       "showUnfilled": True}
        elif p["type"] == "stat":
            options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                       "colorMode": "value", "graphMode": "none", "textMode": "auto"}
        elif p["type"] == "table":
            options = {"showHeader": True}
        panel_json = {
            "id": n, "title": p["title"], "type": p["type"], "description": p["description"],
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"x": x, "y": y, "w": p["w"], "h": p["h"]},
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": options, "targets": targets,
        }
        if p.get("table"):
            panel_json["transformations"] = [
                {"id": "organize", "options": {"excludeByName": {"Time": True}}},
                {"id": "sortBy", "options": {"sort": [{"field": "Value", "desc": True}]}}]
        out.append(panel_json)
        x += p["w"]
        row_h = max(row_h, p["h"])
    return {
        "uid": uid, "title": title, "tags": ["mailsec"], "editable": True, "schemaVersion": 39,
        "version": 1, "timezone": "utc", "refresh": "1m",
        "time": {"from": "now-7d", "to": "now"},
        "description": "mailsec: passive mail-transport security measurements "
                       "(names and labels: docs/metrics.md).",
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0, "refresh": 1},
            {"name": "instance", "label": "Instance", "type": "query",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": {"query": "label_values(mailsec_build_info, instance)", "refId": "instance"},
             "definition": "label_values(mailsec_build_info, instance)", "refresh": 2,
             "includeAll": True, "multi": True, "allValue": ".*",
             "current": {"text": "All", "value": "$__all"}, "sort": 1, "hide": 0},
        ]},
        "annotations": {"list": []},
        "links": [{"title": "mailsec dashboards", "type": "dashboards", "tags": ["mailsec"],
                   "asDropdown": True}],
        "panels": out,
    }


def generated() -> dict:
    """{file name: JSON text} of every dashboard."""
    return {f"{uid}.json": json.dumps(render(uid, title, panels), indent=2) + "\n"
            for uid, (title, panels) in DASHBOARDS.items()}


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    os.makedirs(OUT, exist_ok=True)
    for name, text in generated().items():
        path = os.path.join(OUT, name)
        old = open(path).read() if os.path.exists(path) else None
        if old == text:
            continue
        if check:
            stale.append(name)
        else:
            with open(path, "w") as f:
                f.write(text)
    if stale:
        print("out of date (run packaging/grafana/build_dashboards.py):", *stale, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
