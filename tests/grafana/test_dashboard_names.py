"""Unit test: every mailsec_* name, label and label value that a Grafana dashboard panel uses
exists in docs/metrics.md's generated table (the contract, generated from metrics/catalogue.cc),
and the committed JSON is what packaging/grafana/build_dashboards.py generates."""
import importlib.util
import json
import os
import unittest

import dashboard_queries as dq


class DashboardNamesTest(unittest.TestCase):

    def test_contract_parses(self):
        known = dq.contract()
        self.assertIn("mailsec_sessions_total", known)
        self.assertEqual(known["mailsec_sessions_total"]["labels"]["tls"], {"true", "false"})
        self.assertEqual(known["mailsec_received_hops_per_message"]["type"], "histogram")

    def test_every_panel_uses_only_contract_names_and_values(self):
        known = dq.contract()
        panels = dq.panels()
        self.assertGreaterEqual(len(panels), 40)
        bad = {}
        for board, title, exprs in panels:
            for expr in exprs:
                found = dq.problems(expr, known)
                if found:
                    bad[f"{board}: {title}"] = found
        self.assertEqual(bad, {})

    def test_checker_catches_what_it_should(self):
        known = dq.contract()
        self.assertEqual(dq.problems('sum(mailsec_nope_total)', known),
                         ["unknown metric mailsec_nope_total"])
        self.assertEqual(dq.problems('mailsec_sessions_total{tls="maybe"}', known),
                         ["mailsec_sessions_total: tls=\"maybe\" is not one of "
                          "['false', 'true']"])
        self.assertEqual(dq.problems('mailsec_sessions_total{peer="x"}', known),
                         ["mailsec_sessions_total has no label peer"])
        self.assertEqual(dq.problems('mailsec_spf_results_total{result=~"temperror|oops"}',
                                     known),
                         ["mailsec_spf_results_total: result=\"oops\" is not one of "
                          "['fail', 'neutral', 'none', 'pass', 'permerror', 'softfail', "
                          "'temperror']"])
        self.assertEqual(dq.problems('sum by (kex) (rate(mailsec_sessions_total[1m]))', known),
                         ["grouping by kex, which no selected metric has"])
        self.assertEqual(dq.problems(
            'sum by (le) (rate(mailsec_received_hops_per_message_bucket[1m]))', known), [])

    def test_every_dashboard_has_datasource_variable_units_and_legends(self):
        for path in sorted(os.listdir(dq.DASHBOARDS)):
            with open(os.path.join(dq.DASHBOARDS, path)) as f:
                board = json.load(f)
            names = [v["name"] for v in board["templating"]["list"]]
            self.assertEqual(names, ["datasource", "instance"], path)
            uids = set()
            for p in board["panels"]:
                self.assertEqual(p["datasource"]["uid"], "${datasource}", p["title"])
                self.assertTrue(p["fieldConfig"]["defaults"].get("unit"), p["title"])
                self.assertTrue(p["description"], p["title"])
                for t in p["targets"]:
                    self.assertEqual(t["datasource"]["uid"], "${datasource}", p["title"])
                    if t.get("format") != "table":
                        self.assertNotEqual(t.get("legendFormat"), "__auto", p["title"])
                    self.assertIn('instance=~"$instance"', t["expr"], p["title"])
                uids.add(p["id"])
            self.assertEqual(len(uids), len(board["panels"]), path)

    def test_committed_json_is_generated(self):
        path = os.path.join(dq.ROOT, "packaging", "grafana", "build_dashboards.py")
        spec = importlib.util.spec_from_file_location("build_dashboards", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, text in module.generated().items():
            with open(os.path.join(dq.DASHBOARDS, name)) as f:
                self.assertEqual(f.read(), text, f"{name}: run build_dashboards.py")
        self.assertEqual(sorted(os.listdir(dq.DASHBOARDS)), sorted(module.generated()))


if __name__ == "__main__":
    unittest.main()
