// adoption_render.h — the monthly adoption report (adoption_model.h) as files: a self-contained
// HTML page (inline SVG charts, no script, no external asset, print styles), Markdown, one CSV
// per table, and JSON of every table.
//
// Input: a Report; every string in it (domains, label spellings) is treated as data and escaped
// for the format (HTML entities, Markdown pipes, CSV quoting with formula neutralising, JSON
// escaping). Thread-safety: pure functions. Errors: none (rendering cannot fail).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "report/adoption_model.h"

namespace mailsec::report {

std::string renderHtml(const Report& report);
std::string renderMarkdown(const Report& report);
std::string renderJson(const Report& report);
// {file name: contents}: daily.csv, peers.csv, downgrade_events.csv and <table id>.csv.
std::map<std::string, std::string> renderCsv(const Report& report);

// "87.5%" (one decimal), "—" when absent.
std::string percent(std::optional<double> share);
// "+2.3 pp", "−1.0 pp", "" when either is absent.
std::string delta(std::optional<double> now, std::optional<double> before);
std::string csvField(const std::string& text);
// Unix seconds as 2026-11-03T10:00:00Z.
std::string isoTime(std::int64_t seconds);
std::string htmlEscape(const std::string& text);

}  // namespace mailsec::report
