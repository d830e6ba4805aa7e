#include "config/loader.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/yaml_reader.h"
#include "core/peer_text.h"

namespace mailsec::config {
namespace {

void readMilter(YamlReader& r, const YAML::Node& node, MilterConfig& out) {
  if (!r.mapping(node, "milter", {"socket", "timeout_seconds"}) || !node) return;
  if (const auto n = node["socket"]) {
    if (const auto v = r.string(n, "milter.socket")) {
      if (const auto problem = validateMilterSocket(*v); !problem.empty())
        r.error(n, problem);
      else
        out.socket = *v;
    }
  }
  if (const auto n = node["timeout_seconds"]) {
    if (const auto v = r.unsignedInteger(n, "milter.timeout_seconds", 1, 3600)) {
      out.timeout_seconds = static_cast<std::uint32_t>(*v);
    }
  }
}

void readPolicyd(YamlReader& r, const YAML::Node& node, PolicydConfig& out) {
  if (!r.mapping(node, "policyd",
                 {"socket", "metrics_listen", "max_connections", "idle_timeout_seconds",
                  "request_timeout_seconds"}) ||
      !node) {
    return;
  }
  if (const auto n = node["socket"]) {
    if (const auto v = r.string(n, "policyd.socket")) {
      if (const auto problem = validatePolicydSocket(*v); !problem.empty())
        r.error(n, problem);
      else
        out.socket = *v;
    }
  }
  if (const auto n = node["metrics_listen"]) {
    if (const auto v = r.string(n, "policyd.metrics_listen")) {
      if (const auto problem = validateListenAddress(*v); !problem.empty())
        r.error(n, problem);
      else
        out.metrics_listen = *v;
    }
  }
  const auto number = [&](const char* key, std::uint64_t max, std::uint32_t& field) {
    if (const auto n = node[key]) {
      if (const auto v = r.unsignedInteger(n, std::string("policyd.") + key, 1, max)) {
        field = static_cast<std::uint32_t>(*v);
      }
    }
  };
  number("max_connections", 65536, out.max_connections);
  number("idle_timeout_seconds", 86400, out.idle_timeout_seconds);
  number("request_timeout_seconds", 3600, out.request_timeout_seconds);
}

void readMetrics(YamlReader& r, const YAML::Node& node, MetricsConfig& out) {
  if (!r.mapping(node, "metrics", {"listen"}) || !node) return;
  if (const auto n = node["listen"]) {
    if (const auto v = r.string(n, "metrics.listen")) {
      if (const auto problem = validateListenAddress(*v); !problem.empty())
        r.error(n, problem);
      else
        out.listen = *v;
    }
  }
}

void readPortClass(YamlReader& r, const YAML::Node& node, const std::string& path,
                   std::vector<std::uint16_t>& ports, std::vector<std::string>& names) {
  if (!r.mapping(node, path, {"ports", "daemon_names"}) || !node) return;
  if (const auto n = node["ports"]) {
    if (const auto v = r.portList(n, path + ".ports")) ports = *v;
  }
  if (const auto n = node["daemon_names"]) {
    if (const auto v = r.stringList(n, path + ".daemon_names")) names = *v;
  }
}

void readPortClasses(YamlReader& r, const YAML::Node& node, core::PortClassRules& out) {
  if (!r.mapping(node, "port_classes", {"mx", "submission"}) || !node) return;
  readPortClass(r, node["mx"], "port_classes.mx", out.mx_ports, out.mx_daemon_names);
  readPortClass(r, node["submission"], "port_classes.submission", out.submission_ports,
                out.submission_daemon_names);
}

void readLog(YamlReader& r, const YAML::Node& node, LogConfig& out) {
  if (!r.mapping(node, "log", {"level", "stderr"}) || !node) return;
  if (const auto n = node["level"]) {
    if (const auto v = r.string(n, "log.level")) {
      if (!log::parseLevel(*v, out.level)) {
        r.error(n, "log.level must be one of debug, info, warning, error, found \"" + *v + "\"");
      }
    }
  }
  if (const auto n = node["stderr"]) {
    if (const auto v = r.boolean(n, "log.stderr")) out.to_stderr = *v;
  }
}

void readDns(YamlReader& r, const YAML::Node& node, core::auth::ResolverOptions& out) {
  if (!r.mapping(node, "dns", {"forwarders", "timeout_ms", "dnssec", "trust_anchor_files"}) ||
      !node) {
    return;
  }
  if (const auto n = node["forwarders"]) {
    if (const auto v = r.stringList(n, "dns.forwarders")) {
      bool ok = true;
      for (std::size_t i = 0; i < v->size(); ++i) {
        if (const auto problem = core::auth::validateForwarder((*v)[i]); !problem.empty()) {
          r.error(n.IsSequence() ? n[i] : n, "dns.forwarders: " + problem);
          ok = false;
        }
      }
      if (ok) out.forwarders = *v;
    }
  }
  if (const auto n = node["timeout_ms"]) {
    if (const auto v = r.unsignedInteger(n, "dns.timeout_ms", 50, 60000)) {
      out.timeout_ms = static_cast<std::uint32_t>(*v);
    }
  }
  if (const auto n = node["dnssec"]) {
    if (const auto v = r.string(n, "dns.dnssec")) {
      if (*v == "validate")
        out.dnssec_validate = true;
      else if (*v == "off")
        out.dnssec_validate = false;
      else
        r.error(n, "dns.dnssec must be validate or off, found \"" + *v + "\"");
    }
  }
  if (const auto n = node["trust_anchor_files"]) {
    if (const auto v = r.stringList(n, "dns.trust_anchor_files")) {
      bool ok = true;
      for (std::size_t i = 0; i < v->size(); ++i) {
        if ((*v)[i].empty() || (*v)[i].front() != '/') {
          r.error(n.IsSequence() ? n[i] : n,
                  "dns.trust_anchor_files: \"" + (*v)[i] + "\" must be an absolute path");
          ok = false;
        }
      }
      if (ok) out.trust_anchor_files = *v;
    }
  }
}

void readAuth(YamlReader& r, const YAML::Node& node, AuthConfig& out) {
  if (!r.mapping(node, "auth", {"enabled", "workers", "queue", "trusted_authserv_ids"}) || !node) {
    return;
  }
  if (const auto n = node["enabled"]) {
    if (const auto v = r.boolean(n, "auth.enabled")) out.enabled = *v;
  }
  if (const auto n = node["workers"]) {
    if (const auto v = r.unsignedInteger(n, "auth.workers", 1, 256)) {
      out.workers = static_cast<std::uint32_t>(*v);
    }
  }
  if (const auto n = node["queue"]) {
    if (const auto v = r.unsignedInteger(n, "auth.queue", 1, 1000000)) {
      out.queue = static_cast<std::uint32_t>(*v);
    }
  }
  if (const auto n = node["trusted_authserv_ids"]) {
    if (const auto v = r.stringList(n, "auth.trusted_authserv_ids")) out.trusted_authserv_ids = *v;
  }
}

void readStore(YamlReader& r, const YAML::Node& node, StoreConfig& out) {
  if (!r.mapping(node, "store",
                 {"path", "flush_seconds", "retention_days", "public_suffix_list"}) ||
      !node) {
    return;
  }
  const auto absolutePath = [&](const char* key, std::string& field) {
    if (const auto n = node[key]) {
      if (const auto v = r.string(n, std::string("store.") + key)) {
        if (!v->empty() && v->front() != '/') {
          r.error(n,
                  std::string("store.") + key + " must be an absolute path, found \"" + *v + "\"");
        } else {
          field = *v;
        }
      }
    }
  };
  absolutePath("path", out.path);
  absolutePath("public_suffix_list", out.public_suffix_list);
  if (const auto n = node["flush_seconds"]) {
    // At most a minute: a kill -9 loses at most one interval.
    if (const auto v = r.unsignedInteger(n, "store.flush_seconds", 1, 60)) {
      out.flush_seconds = static_cast<std::uint32_t>(*v);
    }
  }
  if (const auto n = node["retention_days"]) {
    if (const auto v = r.unsignedInteger(n, "store.retention_days", 1, 3650)) {
      out.retention_days = static_cast<std::uint32_t>(*v);
    }
  }
}

void readDowngrade(YamlReader& r, const YAML::Node& node, DowngradeConfig& out) {
  if (!r.mapping(node, "downgrade",
                 {"min_sessions", "min_tls_share", "window_days", "identity_sources"}) ||
      !node) {
    return;
  }
  if (const auto n = node["min_sessions"]) {
    if (const auto v = r.unsignedInteger(n, "downgrade.min_sessions", 1, 1000000)) {
      out.min_sessions = static_cast<std::uint32_t>(*v);
    }
  }
  if (const auto n = node["window_days"]) {
    if (const auto v = r.unsignedInteger(n, "downgrade.window_days", 1, 366)) {
      out.window_days = static_cast<std::uint32_t>(*v);
    }
  }
  if (const auto n = node["min_tls_share"]) {
    if (const auto v = r.string(n, "downgrade.min_tls_share")) {
      char* end = nullptr;
      const double share = std::strtod(v->c_str(), &end);
      if (v->empty() || end != v->c_str() + v->size() || !(share > 0.0 && share <= 1.0)) {
        r.error(n, "downgrade.min_tls_share must be a number in (0, 1], e.g. 0.99, found \"" + *v +
                       "\"");
      } else {
        out.min_tls_share = share;
      }
    }
  }
  if (const auto n = node["identity_sources"]) {
    if (const auto v = r.stringList(n, "downgrade.identity_sources")) {
      std::vector<core::PeerDomainSource> sources;
      for (const auto& name : *v) {
        const auto source = core::fromLabel<core::PeerDomainSource>(name);
        if (!source || *source == core::PeerDomainSource::kNone) {
          r.error(n,
                  "downgrade.identity_sources: \"" + name + "\" is not one of rdns, helo, sender");
          return;
        }
        sources.push_back(*source);
      }
      out.identity_sources = sources;
    }
  }
}

}  // namespace

std::string ConfigError::toString() const {
  std::ostringstream out;
  out << file;
  if (line > 0) out << ':' << line << ':' << column;
  out << ": " << message;
  return out.str();
}

namespace {

// unix:/path, local:/path, inet:PORT[@HOST], inet6:PORT[@HOST]; `what` names the setting.
std::string validateSocketSpec(std::string_view spec, std::string_view what) {
  const std::string quoted = std::string(what) + " \"" + std::string(spec) + "\"";
  const auto startsWith = [spec](std::string_view p) { return spec.substr(0, p.size()) == p; };
  if (startsWith("unix:") || startsWith("local:")) {
    const auto path = spec.substr(spec.find(':') + 1);
    if (path.empty() || path.front() != '/') return quoted + ": the path must be absolute";
    return "";
  }
  if (startsWith("inet:") || startsWith("inet6:")) {
    const auto rest = spec.substr(spec.find(':') + 1);
    const auto at = rest.find('@');
    if (!core::parsePort(rest.substr(0, at)) || core::parsePort(rest.substr(0, at)) == 0) {
      return quoted + ": expected inet:PORT@HOST";
    }
    if (at != std::string_view::npos && at + 1 == rest.size()) {
      return quoted + ": empty host after @";
    }
    return "";
  }
  return quoted + " must start with unix:, local:, inet: or inet6:";
}

}  // namespace

std::string validateMilterSocket(std::string_view spec) {
  return validateSocketSpec(spec, "milter socket");
}

std::string validatePolicydSocket(std::string_view spec) {
  return validateSocketSpec(spec, "policyd socket");
}

std::string validateListenAddress(std::string_view address) {
  const auto colon = address.rfind(':');
  const auto port =
      colon == std::string_view::npos ? std::nullopt : core::parsePort(address.substr(colon + 1));
  if (!port || *port == 0) {
    return "metrics address \"" + std::string(address) + "\" must be HOST:PORT (port 1-65535)";
  }
  const auto host = address.substr(0, colon);
  if (host.empty()) return "metrics address \"" + std::string(address) + "\" has no host";
  if (host.find(':') != std::string_view::npos && (host.front() != '[' || host.back() != ']')) {
    return "metrics address \"" + std::string(address) + "\": write IPv6 hosts as [::1]:PORT";
  }
  return "";
}

LoadResult loadConfigText(std::string_view text, const std::string& name) {
  LoadResult result;
  result.config.source = name;
  YamlReader r(name, result.errors);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    r.error(e.mark, e.msg);
    return result;
  } catch (const std::exception& e) {
    result.errors.push_back(ConfigError{name, 0, 0, e.what()});
    return result;
  }
  try {
    if (!r.mapping(root, "the top level",
                   {"milter", "metrics", "port_classes", "log", "policyd", "dns", "auth", "store",
                    "downgrade"})) {
      return result;
    }
    if (!root || root.IsNull()) return result;
    readMilter(r, root["milter"], result.config.milter);
    readMetrics(r, root["metrics"], result.config.metrics);
    readPortClasses(r, root["port_classes"], result.config.port_classes);
    readLog(r, root["log"], result.config.log);
    readPolicyd(r, root["policyd"], result.config.policyd);
    readDns(r, root["dns"], result.config.dns);
    readAuth(r, root["auth"], result.config.auth);
    readStore(r, root["store"], result.config.store);
    readDowngrade(r, root["downgrade"], result.config.downgrade);
  } catch (const std::exception& e) {
    // yaml-cpp throws on some malformed trees (e.g. aliases to nothing); report, don't crash.
    result.errors.push_back(ConfigError{name, 0, 0, std::string("cannot read: ") + e.what()});
  }
  return result;
}

LoadResult loadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.errors.push_back(ConfigError{path, 0, 0, "cannot open the configuration file"});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return loadConfigText(text.str(), path);
}

}  // namespace mailsec::config
