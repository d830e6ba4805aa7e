#include "report/adoption_render.h"

#include <json/json.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>

namespace mailsec::report {
namespace {

std::string joined(const Key& key, const char* sep = " / ") {
  std::string s;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (i != 0) s += sep;
    s += key[i].empty() ? "(none)" : key[i];
  }
  return s;
}

std::string fixed(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

std::string count(std::uint64_t n) { return std::to_string(n); }

std::string weekdayName(DayNumber day) {
  static const char* kNames[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  return kNames[((day % 7) + 7) % 7];  // 1970-01-01 was a Thursday
}

std::string markdownCell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|' || c == '\\' || c == '*' || c == '_' || c == '`' || c == '<' || c == '[') {
      out += '\\';
    }
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

std::string peerName(const std::string& domain) {
  return domain.empty() ? "(not identified)" : domain;
}

// --- SVG -------------------------------------------------------------------------------------

constexpr int kChartWidth = 900;

// Inbound TLS share per day: sessions and messages of this month, sessions of the previous
// month (by day of month, dashed), weekends shaded.
std::string dailyChart(const Report& r) {
  const int w = kChartWidth;
  const int h = 260;
  const int left = 48, right = 12, top = 12, bottom = 36;
  const int pw = w - left - right, ph = h - top - bottom;
  const std::size_t n = r.daily.size();
  const auto x = [&](std::size_t i) {
    return left + (n <= 1 ? pw / 2.0
                          : static_cast<double>(pw) * static_cast<double>(i) /
                                static_cast<double>(std::max<std::size_t>(n - 1, 1)));
  };
  const auto y = [&](double share) { return top + ph * (1.0 - share); };
  std::ostringstream s;
  s << "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 " << w << ' ' << h
    << "\" xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"Inbound TLS share by day\">";
  const double slot = n <= 1 ? pw : static_cast<double>(pw) / static_cast<double>(n - 1);
  for (std::size_t i = 0; i < n; ++i) {
    if (!r.daily[i].weekend) continue;
    s << "<rect class=\"weekend\" x=\"" << fixed(x(i) - slot / 2, 1) << "\" y=\"" << top
      << "\" width=\"" << fixed(slot, 1) << "\" height=\"" << ph << "\"/>";
  }
  for (int p = 0; p <= 100; p += 25) {
    const double yy = y(p / 100.0);
    s << "<line class=\"grid\" x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\""
      << fixed(yy, 1) << "\" y2=\"" << fixed(yy, 1) << "\"/><text class=\"axis\" x=\"" << left - 6
      << "\" y=\"" << fixed(yy + 4, 1) << "\" text-anchor=\"end\">" << p << "%</text>";
  }
  for (std::size_t i = 0; i < n; i += 1) {
    const unsigned dom = static_cast<unsigned>(i + 1);
    if (dom != 1 && dom % 5 != 0) continue;
    s << "<text class=\"axis\" x=\"" << fixed(x(i), 1) << "\" y=\"" << h - bottom + 16
      << "\" text-anchor=\"middle\">" << dom << "</text>";
  }
  // One polyline per run of days with traffic.
  const auto line = [&](const std::vector<DailyRow>& days, bool sessions, const char* cls) {
    std::string points;
    const auto flush = [&] {
      if (points.empty()) return;
      s << "<polyline class=\"" << cls << "\" points=\"" << points << "\"/>";
      points.clear();
    };
    for (std::size_t i = 0; i < days.size() && i < n; ++i) {
      const auto share = sessions ? days[i].session_share : days[i].message_share;
      if (!share) {
        flush();
        continue;
      }
      points += fixed(x(i), 1) + "," + fixed(y(*share), 1) + " ";
      s << "<circle class=\"" << cls << "\" cx=\"" << fixed(x(i), 1) << "\" cy=\""
        << fixed(y(*share), 1) << "\" r=\"2.5\"/>";
    }
    flush();
  };
  line(r.previous_daily, true, "previous");
  line(r.daily, false, "messages");
  line(r.daily, true, "sessions");
  s << "<text class=\"axis\" x=\"" << left + pw / 2 << "\" y=\"" << h - 4
    << "\" text-anchor=\"middle\">day of " << r.month << " (shaded: weekend)</text></svg>";
  s << "<p class=\"legend\"><span class=\"key sessions\"></span>sessions "
       "<span class=\"key messages\"></span>messages "
       "<span class=\"key previous\"></span>sessions, "
    << htmlEscape(r.previous_month) << "</p>";
  return s.str();
}

// Horizontal bars: this month's share (dark) and last month's (light) per row.
std::string barChart(const ShareTable& t) {
  const std::size_t rows = std::min<std::size_t>(t.rows.size(), 12);
  if (rows == 0) return "";
  const int label_w = 300, right = 70, row_h = 28, top = 6;
  const int w = kChartWidth, pw = w - label_w - right;
  const int h = top + static_cast<int>(rows) * row_h + 6;
  std::ostringstream s;
  s << "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 " << w << ' ' << h
    << "\" xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"" << htmlEscape(t.title) << "\">";
  for (std::size_t i = 0; i < rows; ++i) {
    const auto& row = t.rows[i];
    const int y0 = top + static_cast<int>(i) * row_h;
    s << "<text class=\"label\" x=\"" << label_w - 8 << "\" y=\"" << y0 + 15
      << "\" text-anchor=\"end\">" << htmlEscape(joined(row.key)) << "</text>";
    s << "<rect class=\"bar\" x=\"" << label_w << "\" y=\"" << y0 + 3 << "\" width=\""
      << fixed(pw * row.share, 1) << "\" height=\"14\"/>";
    if (row.previous_share) {
      s << "<rect class=\"bar previous\" x=\"" << label_w << "\" y=\"" << y0 + 18 << "\" width=\""
        << fixed(pw * *row.previous_share, 1) << "\" height=\"6\"/>";
    }
    s << "<text class=\"value\" x=\"" << fixed(label_w + pw * row.share + 6, 1) << "\" y=\""
      << y0 + 15 << "\">" << percent(row.share) << "</text>";
  }
  s << "</svg>";
  return s.str();
}

constexpr const char* kStyle = R"css(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1a1a1a;
       max-width: 960px; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
.meta, .denominator, .note, .legend { color: #555; font-size: 0.9em; }
.note { font-style: italic; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.weekend td { background: #f2f2f2; }
.figures { display: flex; gap: 2em; flex-wrap: wrap; }
.figure { border: 1px solid #ccc; padding: 0.6em 1em; }
.figure .big { font-size: 1.8em; font-weight: bold; }
svg.chart { width: 100%; height: auto; display: block; }
svg .weekend { fill: #ececec; }
svg .grid { stroke: #ddd; stroke-width: 1; }
svg .axis, svg .label, svg .value { font-size: 12px; fill: #333; }
svg polyline { fill: none; stroke-width: 2; }
svg polyline.sessions { stroke: #1f5f99; }
svg polyline.messages { stroke: #c0641f; }
svg polyline.previous { stroke: #888; stroke-dasharray: 4 3; }
svg circle.sessions { fill: #1f5f99; }
svg circle.messages { fill: #c0641f; }
svg circle.previous { fill: #888; }
svg .bar { fill: #1f5f99; }
svg .bar.previous { fill: #9bbad6; }
.key { display: inline-block; width: 1.2em; height: 0.5em; margin: 0 0.3em 0 1em; }
.key.sessions { background: #1f5f99; } .key.messages { background: #c0641f; }
.key.previous { background: #888; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  section { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
)css";

void htmlShareTable(std::ostringstream& s, const Report& r, const ShareTable& t) {
  s << "<section id=\"" << t.id << "\"><h2>" << htmlEscape(t.title);
  if (!t.reference.empty()) s << " <small>(" << htmlEscape(t.reference) << ")</small>";
  s << "</h2>";
  if (!t.available) {
    s << "<p class=\"note\">" << htmlEscape(t.note) << "</p></section>";
    return;
  }
  s << "<p class=\"denominator\">Denominator: " << htmlEscape(t.denominator) << " — " << t.total
    << " in " << htmlEscape(r.month) << ", " << t.previous_total << " in "
    << htmlEscape(r.previous_month) << ".</p>";
  if (t.rows.empty()) {
    s << "<p class=\"note\">Nothing counted in either month.</p></section>";
    return;
  }
  if (!t.note.empty()) s << "<p class=\"note\">" << htmlEscape(t.note) << "</p>";
  s << barChart(t) << "<table><thead><tr>";
  for (const auto& c : t.columns) s << "<th>" << htmlEscape(c) << "</th>";
  s << "<th>count</th><th>share</th><th>" << htmlEscape(r.previous_month)
    << "</th><th>change</th></tr></thead><tbody>";
  for (const auto& row : t.rows) {
    s << "<tr>";
    for (const auto& k : row.key) s << "<td>" << htmlEscape(k) << "</td>";
    s << "<td class=\"n\">" << row.count << "</td><td class=\"n\">" << percent(row.share)
      << "</td><td class=\"n\">" << percent(row.previous_share) << "</td><td class=\"n\">"
      << delta(row.share, row.previous_share) << "</td></tr>";
  }
  s << "</tbody></table></section>";
}

}  // namespace

std::string isoTime(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string percent(std::optional<double> share) {
  if (!share || std::isnan(*share)) return "—";
  return fixed(*share * 100.0, 1) + "%";
}

std::string delta(std::optional<double> now, std::optional<double> before) {
  if (!now || !before) return "";
  const double pp = (*now - *before) * 100.0;
  if (std::fabs(pp) < 0.05) return "±0.0 pp";
  return (pp > 0 ? "+" : "−") + fixed(std::fabs(pp), 1) + " pp";
}

std::string htmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string csvField(const std::string& text) {
  std::string v = text;
  // A spreadsheet would run a cell that starts like a formula.
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) v = "'" + v;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string renderHtml(const Report& r) {
  std::ostringstream s;
  s << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>mailsec adoption report " << htmlEscape(r.month) << "</title><style>" << kStyle
    << "</style></head><body>\n";
  s << "<h1>Mail transport security, " << htmlEscape(r.month) << "</h1>"
    << "<p class=\"meta\">Measured passively by mailsec on this site's own traffic. Source: "
    << htmlEscape(r.source) << ". Compared with " << htmlEscape(r.previous_month)
    << ". Inbound: SMTP on MX ports.</p>\n";

  s << "<section id=\"summary\"><h2>Summary</h2><div class=\"figures\">";
  const auto figure = [&](const char* what, std::optional<double> now, std::optional<double> before,
                          std::uint64_t part, std::uint64_t whole) {
    s << "<div class=\"figure\"><div>" << what << "</div><div class=\"big\">" << percent(now)
      << "</div><div class=\"denominator\">" << part << " of " << whole << "; "
      << htmlEscape(r.previous_month) << ": " << percent(before) << " " << delta(now, before)
      << "</div></div>";
  };
  figure("Inbound sessions over TLS", r.totals.session_share, r.previous_totals.session_share,
         r.totals.tls_sessions, r.totals.sessions);
  figure("Inbound messages over TLS", r.totals.message_share, r.previous_totals.message_share,
         r.totals.tls_messages, r.totals.messages);
  s << "<div class=\"figure\"><div>Inbound sessions over TLS on weekdays / weekends</div>"
    << "<div class=\"big\">" << percent(r.weekdays.session_share) << " / "
    << percent(r.weekends.session_share) << "</div><div class=\"denominator\">"
    << r.weekdays.tls_sessions << " of " << r.weekdays.sessions << " / " << r.weekends.tls_sessions
    << " of " << r.weekends.sessions << " (UTC days)</div></div>";
  s << "</div></section>\n";

  s << "<section id=\"daily\"><h2>Inbound STARTTLS share by day <small>(IMC 2015 Figure "
       "3)</small></h2><p class=\"denominator\">Denominator: each day's inbound sessions "
       "(and messages) on MX ports; days without traffic have no point.</p>"
    << dailyChart(r)
    << "<table><thead><tr><th>day</th><th></th><th>sessions</th><th>over TLS</th>"
       "<th>messages</th><th>over TLS</th></tr></thead><tbody>";
  for (const auto& d : r.daily) {
    s << "<tr" << (d.weekend ? " class=\"weekend\"" : "") << "><td>" << dayText(d.day)
      << "</td><td>" << weekdayName(d.day) << "</td><td class=\"n\">" << d.sessions
      << "</td><td class=\"n\">" << percent(d.session_share) << "</td><td class=\"n\">"
      << d.messages << "</td><td class=\"n\">" << percent(d.message_share) << "</td></tr>";
  }
  s << "</tbody></table></section>\n";

  for (const auto& t : r.tables) {
    if (t.dist == Dist::kDowngradeSignals) continue;  // with the events, below
    htmlShareTable(s, r, t);
    s << '\n';
  }

  const auto& p = r.peers;
  s << "<section id=\"peers\"><h2>Top " << p.top_n << " peer domains by volume</h2>";
  if (!p.available) {
    s << "<p class=\"note\">" << htmlEscape(p.note) << "</p>";
  } else {
    s << "<p class=\"denominator\">Denominator: each domain's inbound messages on MX ports "
         "(peers identified by reverse DNS, HELO or sender, reduced to the organisation "
         "domain). "
      << p.all_tls << " of the top " << p.rows.size() << " sent 100% over TLS ("
      << htmlEscape(r.previous_month) << ": " << p.previous_all_tls << " of " << p.previous_rows
      << "); " << p.domains << " domains in all.</p>";
    if (!p.rows.empty()) {
      s << "<table><thead><tr><th>domain</th><th>messages</th><th>over TLS</th>"
           "<th>100% TLS</th></tr></thead><tbody>";
      for (const auto& row : p.rows) {
        s << "<tr><td>" << htmlEscape(peerName(row.domain)) << "</td><td class=\"n\">"
          << row.messages << "</td><td class=\"n\">" << percent(row.share) << "</td><td>"
          << (row.all_tls ? "yes" : "no") << "</td></tr>";
      }
      s << "</tbody></table>";
    }
  }
  s << "</section>\n";

  for (const auto& t : r.tables) {
    if (t.dist == Dist::kDowngradeSignals) htmlShareTable(s, r, t);
  }
  s << "<section id=\"downgrade_events\"><h2>Downgrade events</h2>";
  if (!r.downgrade_events_available) {
    s << "<p class=\"note\">Per-peer events are kept only in the history store.</p>";
  } else if (r.downgrade_events.empty()) {
    s << "<p class=\"note\">No suspected downgrade in " << htmlEscape(r.month) << ".</p>";
  } else {
    s << "<p class=\"denominator\">Suspected sessions per peer and signal in "
      << htmlEscape(r.month) << ".</p><table><thead><tr><th>peer</th><th>identified by</th>"
      << "<th>signal</th><th>sessions</th><th>first seen</th><th>last seen</th></tr></thead>"
      << "<tbody>";
    for (const auto& e : r.downgrade_events) {
      s << "<tr><td>" << htmlEscape(peerName(e.peer_domain)) << "</td><td>"
        << htmlEscape(e.peer_source) << "</td><td>" << htmlEscape(e.signal)
        << "</td><td class=\"n\">" << e.count << "</td><td>" << isoTime(e.first_seen) << "</td><td>"
        << isoTime(e.last_seen) << "</td></tr>";
    }
    s << "</tbody></table>";
  }
  s << "</section>\n<p class=\"meta\">Generated by mailsec-report " << MAILSEC_VERSION
    << ".</p></body></html>\n";
  return s.str();
}

std::string renderMarkdown(const Report& r) {
  std::ostringstream s;
  s << "# Mail transport security, " << r.month << "\n\n"
    << "Measured passively by mailsec on this site's own traffic. Source: "
    << markdownCell(r.source) << ". Compared with " << r.previous_month
    << ". Inbound: SMTP on MX ports.\n\n## Summary\n\n"
    << "| | " << r.month << " | " << r.previous_month << " | change |\n| --- | --- | --- | --- |\n"
    << "| Inbound sessions over TLS | " << percent(r.totals.session_share) << " ("
    << r.totals.tls_sessions << " of " << r.totals.sessions << ") | "
    << percent(r.previous_totals.session_share) << " | "
    << delta(r.totals.session_share, r.previous_totals.session_share) << " |\n"
    << "| Inbound messages over TLS | " << percent(r.totals.message_share) << " ("
    << r.totals.tls_messages << " of " << r.totals.messages << ") | "
    << percent(r.previous_totals.message_share) << " | "
    << delta(r.totals.message_share, r.previous_totals.message_share) << " |\n"
    << "| Inbound sessions over TLS, weekdays | " << percent(r.weekdays.session_share) << " ("
    << r.weekdays.tls_sessions << " of " << r.weekdays.sessions << ") | | |\n"
    << "| Inbound sessions over TLS, weekends | " << percent(r.weekends.session_share) << " ("
    << r.weekends.tls_sessions << " of " << r.weekends.sessions << ") | | |\n\n";

  s << "## Inbound STARTTLS share by day (IMC 2015 Figure 3)\n\n"
    << "Denominator: each day's inbound sessions (and messages) on MX ports.\n\n"
    << "| day | | sessions | over TLS | messages | over TLS |\n"
    << "| --- | --- | ---: | ---: | ---: | ---: |\n";
  for (const auto& d : r.daily) {
    s << "| " << dayText(d.day) << " | " << weekdayName(d.day) << (d.weekend ? " (weekend)" : "")
      << " | " << d.sessions << " | " << percent(d.session_share) << " | " << d.messages << " | "
      << percent(d.message_share) << " |\n";
  }
  for (const auto& t : r.tables) {
    s << "\n## " << t.title;
    if (!t.reference.empty()) s << " (" << t.reference << ")";
    s << "\n\n";
    if (!t.available) {
      s << "_" << markdownCell(t.note) << "_\n";
      continue;
    }
    s << "Denominator: " << t.denominator << " — " << t.total << " in " << r.month << ", "
      << t.previous_total << " in " << r.previous_month << ".\n\n";
    if (t.rows.empty()) {
      s << "_Nothing counted in either month._\n";
      continue;
    }
    if (!t.note.empty()) s << "_" << markdownCell(t.note) << "_\n\n";
    s << "|";
    for (const auto& c : t.columns) s << ' ' << markdownCell(c) << " |";
    s << " count | share | " << r.previous_month << " | change |\n|";
    for (std::size_t i = 0; i < t.columns.size(); ++i) s << " --- |";
    s << " ---: | ---: | ---: | ---: |\n";
    for (const auto& row : t.rows) {
      s << "|";
      for (const auto& k : row.key) s << ' ' << markdownCell(k) << " |";
      s << ' ' << row.count << " | " << percent(row.share) << " | " << percent(row.previous_share)
        << " | " << delta(row.share, row.previous_share) << " |\n";
    }
  }
  const auto& p = r.peers;
  s << "\n## Top " << p.top_n << " peer domains by volume\n\n";
  if (!p.available) {
    s << "_" << markdownCell(p.note) << "_\n";
  } else {
    s << "Denominator: each domain's inbound messages on MX ports. " << p.all_tls << " of the top "
      << p.rows.size() << " sent 100% over TLS (" << r.previous_month << ": " << p.previous_all_tls
      << " of " << p.previous_rows << "); " << p.domains << " domains in all.\n\n";
    if (!p.rows.empty()) {
      s << "| domain | messages | over TLS | 100% TLS |\n| --- | ---: | ---: | --- |\n";
      for (const auto& row : p.rows) {
        s << "| " << markdownCell(peerName(row.domain)) << " | " << row.messages << " | "
          << percent(row.share) << " | " << (row.all_tls ? "yes" : "no") << " |\n";
      }
    }
  }
  s << "\n## Downgrade events\n\n";
  if (!r.downgrade_events_available) {
    s << "_Per-peer events are kept only in the history store._\n";
  } else if (r.downgrade_events.empty()) {
    s << "_No suspected downgrade in " << r.month << "._\n";
  } else {
    s << "| peer | identified by | signal | sessions | first seen | last seen |\n"
      << "| --- | --- | --- | ---: | --- | --- |\n";
    for (const auto& e : r.downgrade_events) {
      s << "| " << markdownCell(peerName(e.peer_domain)) << " | " << markdownCell(e.peer_source)
        << " | " << markdownCell(e.signal) << " | " << e.count << " | " << isoTime(e.first_seen)
        << " | " << isoTime(e.last_seen) << " |\n";
    }
  }
  return s.str();
}

namespace {

Json::Value share(std::optional<double> v) { return v ? Json::Value(*v) : Json::Value(); }

Json::Value toJson(const Report& r) {
  Json::Value root(Json::objectValue);
  root["month"] = r.month;
  root["previous_month"] = r.previous_month;
  root["source"] = r.source;
  for (const auto& [name, t] :
       {std::pair{"totals", &r.totals}, std::pair{"previous_totals", &r.previous_totals},
        std::pair{"weekdays", &r.weekdays}, std::pair{"weekends", &r.weekends}}) {
    Json::Value v(Json::objectValue);
    v["denominator"] = "inbound sessions and messages on MX ports";
    v["sessions"] = Json::UInt64(t->sessions);
    v["tls_sessions"] = Json::UInt64(t->tls_sessions);
    v["session_share"] = share(t->session_share);
    v["messages"] = Json::UInt64(t->messages);
    v["tls_messages"] = Json::UInt64(t->tls_messages);
    v["message_share"] = share(t->message_share);
    root[name] = v;
  }
  for (const auto& [name, days] :
       {std::pair{"daily", &r.daily}, std::pair{"previous_daily", &r.previous_daily}}) {
    Json::Value a(Json::arrayValue);
    for (const auto& d : *days) {
      Json::Value v(Json::objectValue);
      v["day"] = dayText(d.day);
      v["weekend"] = d.weekend;
      v["sessions"] = Json::UInt64(d.sessions);
      v["tls_sessions"] = Json::UInt64(d.tls_sessions);
      v["session_share"] = share(d.session_share);
      v["messages"] = Json::UInt64(d.messages);
      v["tls_messages"] = Json::UInt64(d.tls_messages);
      v["message_share"] = share(d.message_share);
      a.append(v);
    }
    root[name] = a;
  }
  Json::Value tables(Json::objectValue);
  for (const auto& t : r.tables) {
    Json::Value v(Json::objectValue);
    v["title"] = t.title;
    v["reference"] = t.reference;
    v["available"] = t.available;
    if (!t.available) {
      v["note"] = t.note;
      tables[t.id] = v;
      continue;
    }
    Json::Value columns(Json::arrayValue);
    for (const auto& c : t.columns) columns.append(c);
    v["columns"] = columns;
    v["denominator"] = t.denominator;
    v["total"] = Json::UInt64(t.total);
    v["previous_total"] = Json::UInt64(t.previous_total);
    if (!t.note.empty()) v["note"] = t.note;
    Json::Value rows(Json::arrayValue);
    for (const auto& row : t.rows) {
      Json::Value rv(Json::objectValue);
      Json::Value key(Json::arrayValue);
      for (const auto& k : row.key) key.append(k);
      rv["key"] = key;
      rv["count"] = Json::UInt64(row.count);
      rv["share"] = row.share;
      rv["previous_count"] = Json::UInt64(row.previous_count);
      rv["previous_share"] = share(row.previous_share);
      rows.append(rv);
    }
    v["rows"] = rows;
    tables[t.id] = v;
  }
  root["tables"] = tables;
  Json::Value peers(Json::objectValue);
  peers["available"] = r.peers.available;
  if (!r.peers.available) {
    peers["note"] = r.peers.note;
  } else {
    peers["denominator"] = "each domain's inbound messages on MX ports";
    peers["top_n"] = Json::UInt64(r.peers.top_n);
    peers["domains"] = Json::UInt64(r.peers.domains);
    peers["all_tls"] = Json::UInt64(r.peers.all_tls);
    peers["previous_all_tls"] = Json::UInt64(r.peers.previous_all_tls);
    peers["previous_rows"] = Json::UInt64(r.peers.previous_rows);
    Json::Value rows(Json::arrayValue);
    for (const auto& p : r.peers.rows) {
      Json::Value v(Json::objectValue);
      v["domain"] = p.domain;
      v["messages"] = Json::UInt64(p.messages);
      v["tls_messages"] = Json::UInt64(p.tls_messages);
      v["share"] = p.share;
      v["all_tls"] = p.all_tls;
      rows.append(v);
    }
    peers["rows"] = rows;
  }
  root["peers"] = peers;
  Json::Value events(Json::arrayValue);
  for (const auto& e : r.downgrade_events) {
    Json::Value v(Json::objectValue);
    v["peer_domain"] = e.peer_domain;
    v["peer_source"] = e.peer_source;
    v["signal"] = e.signal;
    v["source"] = e.source;
    v["count"] = Json::UInt64(e.count);
    v["first_seen"] = isoTime(e.first_seen);
    v["last_seen"] = isoTime(e.last_seen);
    events.append(v);
  }
  root["downgrade_events"] = r.downgrade_events_available ? events : Json::Value();
  return root;
}

std::string csvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i != 0) line += ',';
    line += csvField(fields[i]);
  }
  return line + "\r\n";
}

std::string shareText(std::optional<double> v) { return v ? fixed(*v, 6) : ""; }

}  // namespace

std::string renderJson(const Report& r) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "  ";
  builder["emitUTF8"] = true;
  return Json::writeString(builder, toJson(r)) + "\n";
}

std::map<std::string, std::string> renderCsv(const Report& r) {
  std::map<std::string, std::string> files;
  std::string daily = csvLine({"day", "weekend", "sessions", "tls_sessions", "session_share",
                               "messages", "tls_messages", "message_share"});
  for (const auto& d : r.daily) {
    daily += csvLine({dayText(d.day), d.weekend ? "true" : "false", count(d.sessions),
                      count(d.tls_sessions), shareText(d.session_share), count(d.messages),
                      count(d.tls_messages), shareText(d.message_share)});
  }
  files["daily.csv"] = daily;
  for (const auto& t : r.tables) {
    if (!t.available) continue;
    std::vector<std::string> header = t.columns;
    for (const char* c : {"count", "share", "previous_count", "previous_share", "total",
                          "previous_total", "denominator"}) {
      header.emplace_back(c);
    }
    std::string text = csvLine(header);
    for (const auto& row : t.rows) {
      std::vector<std::string> fields = row.key;
      fields.insert(fields.end(), {count(row.count), shareText(row.share),
                                   count(row.previous_count), shareText(row.previous_share),
                                   count(t.total), count(t.previous_total), t.denominator});
      text += csvLine(fields);
    }
    files[t.id + ".csv"] = text;
  }
  if (r.peers.available) {
    std::string text = csvLine({"domain", "messages", "tls_messages", "share", "all_tls"});
    for (const auto& p : r.peers.rows) {
      text += csvLine({p.domain, count(p.messages), count(p.tls_messages), shareText(p.share),
                       p.all_tls ? "true" : "false"});
    }
    files["peers.csv"] = text;
  }
  if (r.downgrade_events_available) {
    std::string text = csvLine(
        {"peer_domain", "peer_source", "signal", "source", "count", "first_seen", "last_seen"});
    for (const auto& e : r.downgrade_events) {
      text += csvLine({e.peer_domain, e.peer_source, e.signal, e.source, count(e.count),
                       isoTime(e.first_seen), isoTime(e.last_seen)});
    }
    files["downgrade_events.csv"] = text;
  }
  return files;
}

}  // namespace mailsec::report
