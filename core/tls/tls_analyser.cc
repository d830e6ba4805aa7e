// tls_analyser.cc — the cipher-suite table behind tls_analyser.h and the grading rules.
//
// The table is built once, on first use (a function-local static, so concurrent first calls
// are safe): every code point 0x0000–0xFFFF is resolved with SSL_CIPHER_find(), which returns
// every suite compiled into this libssl whether or not it is enabled or even usable (it finds
// IDEA, SEED and GOST suites that `openssl ciphers ALL:COMPLEMENTOFALL` omits because their
// algorithms are not loaded). Each suite's facts come from the SSL_CIPHER_get_*() accessors;
// names are OpenSSL's (SSL_CIPHER_get_name) and IANA's (SSL_CIPHER_standard_name).
//
// Lookups go through one hash map keyed by every name, case-insensitively; a lookup neither
// allocates nor copies, and a name longer than the longest known one is rejected before it is
// hashed.
#include "core/tls/tls_analyser.h"

#include <openssl/objects.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace mailsec::core::tls {
namespace {

constexpr char asciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

constexpr bool isAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (asciiUpper(a[i]) != asciiUpper(b[i])) return false;
  }
  return true;
}

// Case-insensitive (ASCII) hashing and equality for the name map; bytes outside ASCII letters
// are compared as they are, so any input is well-defined.
struct CaseInsensitiveHash {
  std::size_t operator()(std::string_view s) const noexcept {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (char c : s) {
      h ^= static_cast<unsigned char>(asciiUpper(c));
      h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h);
  }
};

struct CaseInsensitiveEqual {
  bool operator()(std::string_view a, std::string_view b) const noexcept { return iequals(a, b); }
};

bool forwardSecret(KeyExchange kex) {
  switch (kex) {
    case KeyExchange::kECDHE:
    case KeyExchange::kDHE:
    case KeyExchange::kECDHE_PSK:
    case KeyExchange::kDHE_PSK:
    case KeyExchange::kAnonymous:  // ephemeral, though unauthenticated
    case KeyExchange::kAny:        // TLS 1.3 always runs (EC)DHE as MTAs use it
      return true;
    case KeyExchange::kRSA:
    case KeyExchange::kPSK:
    case KeyExchange::kRSA_PSK:
    case KeyExchange::kSRP:   // session keys follow from the password verifier
    case KeyExchange::kGOST:  // key transport to the server's long-term key
    case KeyExchange::kOther:
      return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Supplementary legacy table.
//
// IANA-registered suites that OpenSSL 3 no longer ships (RC4, DES, 3DES, RC2 and EXPORT; Debian
// builds without weak ciphers) but that old peers and Received headers still name. Exact-name
// data only: code points and IANA names from the TLS Cipher Suites registry (RFC 2246, 4279,
// 4492, 5054, 5489); OpenSSL names and the facts as OpenSSL 1.0/1.1 defined them (its
// ssl3.h/tls1.h still carry the names and code points; the unit test checks them). `alias` is
// the OpenSSL 1.0 spelling (EDH- for what 1.1 calls DHE-). Static (EC)DH suites are not listed:
// OpenSSL dropped them in 1.1.0 and KeyExchange has no value for them. When this libssl knows a
// code point itself, its entry wins and these names become aliases of it.
struct LegacySuite {
  std::uint16_t id;
  std::string_view openssl_name;
  std::string_view alias;
  std::string_view iana_name;
  KeyExchange kex;
  Authentication auth;
  BulkCipher cipher;
  Mac mac;
  int bits;
  Version min_version;
};

using KX = KeyExchange;
using AU = Authentication;
using BC = BulkCipher;
using V = Version;

constexpr LegacySuite kLegacySuites[] = {
    // RFC 2246 (SSLv3 / TLS 1.0).
    {0x0003, "EXP-RC4-MD5", "", "TLS_RSA_EXPORT_WITH_RC4_40_MD5", KX::kRSA, AU::kRSA, BC::kRC4,
     Mac::kMD5, 40, V::kSSLv3},
    {0x0004, "RC4-MD5", "", "TLS_RSA_WITH_RC4_128_MD5", KX::kRSA, AU::kRSA, BC::kRC4, Mac::kMD5,
     128, V::kSSLv3},
    {0x0005, "RC4-SHA", "", "TLS_RSA_WITH_RC4_128_SHA", KX::kRSA, AU::kRSA, BC::kRC4, Mac::kSHA1,
     128, V::kSSLv3},
    {0x0006, "EXP-RC2-CBC-MD5", "", "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", KX::kRSA, AU::kRSA,
     BC::kRC2, Mac::kMD5, 40, V::kSSLv3},
    {0x0008, "EXP-DES-CBC-SHA", "", "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", KX::kRSA, AU::kRSA,
     BC::kDES, Mac::kSHA1, 40, V::kSSLv3},
    {0x0009, "DES-CBC-SHA", "", "TLS_RSA_WITH_DES_CBC_SHA", KX::kRSA, AU::kRSA, BC::kDES,
     Mac::kSHA1, 56, V::kSSLv3},
    {0x000A, "DES-CBC3-SHA", "", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", KX::kRSA, AU::kRSA, BC::k3DES,
     Mac::kSHA1, 112, V::kSSLv3},
    {0x0011, "EXP-DHE-DSS-DES-CBC-SHA", "EXP-EDH-DSS-DES-CBC-SHA",
     "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", KX::kDHE, AU::kDSS, BC::kDES, Mac::kSHA1, 40,
     V::kSSLv3},
    {0x0012, "DHE-DSS-DES-CBC-SHA", "EDH-DSS-DES-CBC-SHA", "TLS_DHE_DSS_WITH_DES_CBC_SHA", KX::kDHE,
     AU::kDSS, BC::kDES, Mac::kSHA1, 56, V::kSSLv3},
    {0x0013, "DHE-DSS-DES-CBC3-SHA", "EDH-DSS-DES-CBC3-SHA", "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
     KX::kDHE, AU::kDSS, BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    {0x0014, "EXP-DHE-RSA-DES-CBC-SHA", "EXP-EDH-RSA-DES-CBC-SHA",
     "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", KX::kDHE, AU::kRSA, BC::kDES, Mac::kSHA1, 40,
     V::kSSLv3},
    {0x0015, "DHE-RSA-DES-CBC-SHA", "EDH-RSA-DES-CBC-SHA", "TLS_DHE_RSA_WITH_DES_CBC_SHA", KX::kDHE,
     AU::kRSA, BC::kDES, Mac::kSHA1, 56, V::kSSLv3},
    {0x0016, "DHE-RSA-DES-CBC3-SHA", "EDH-RSA-DES-CBC3-SHA", "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
     KX::kDHE, AU::kRSA, BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    {0x0017, "EXP-ADH-RC4-MD5", "", "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", KX::kAnonymous,
     AU::kAnonymous, BC::kRC4, Mac::kMD5, 40, V::kSSLv3},
    {0x0018, "ADH-RC4-MD5", "", "TLS_DH_anon_WITH_RC4_128_MD5", KX::kAnonymous, AU::kAnonymous,
     BC::kRC4, Mac::kMD5, 128, V::kSSLv3},
    {0x0019, "EXP-ADH-DES-CBC-SHA", "", "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", KX::kAnonymous,
     AU::kAnonymous, BC::kDES, Mac::kSHA1, 40, V::kSSLv3},
    {0x001A, "ADH-DES-CBC-SHA", "", "TLS_DH_anon_WITH_DES_CBC_SHA", KX::kAnonymous, AU::kAnonymous,
     BC::kDES, Mac::kSHA1, 56, V::kSSLv3},
    {0x001B, "ADH-DES-CBC3-SHA", "", "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", KX::kAnonymous,
     AU::kAnonymous, BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    // RFC 4279 (PSK).
    {0x008A, "PSK-RC4-SHA", "", "TLS_PSK_WITH_RC4_128_SHA", KX::kPSK, AU::kPSK, BC::kRC4,
     Mac::kSHA1, 128, V::kSSLv3},
    {0x008B, "PSK-3DES-EDE-CBC-SHA", "", "TLS_PSK_WITH_3DES_EDE_CBC_SHA", KX::kPSK, AU::kPSK,
     BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    {0x008E, "DHE-PSK-RC4-SHA", "", "TLS_DHE_PSK_WITH_RC4_128_SHA", KX::kDHE_PSK, AU::kPSK,
     BC::kRC4, Mac::kSHA1, 128, V::kSSLv3},
    {0x008F, "DHE-PSK-3DES-EDE-CBC-SHA", "", "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA", KX::kDHE_PSK,
     AU::kPSK, BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    {0x0092, "RSA-PSK-RC4-SHA", "", "TLS_RSA_PSK_WITH_RC4_128_SHA", KX::kRSA_PSK, AU::kRSA,
     BC::kRC4, Mac::kSHA1, 128, V::kSSLv3},
    {0x0093, "RSA-PSK-3DES-EDE-CBC-SHA", "", "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA", KX::kRSA_PSK,
     AU::kRSA, BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    // RFC 4492 (ECC).
    {0xC007, "ECDHE-ECDSA-RC4-SHA", "", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", KX::kECDHE, AU::kECDSA,
     BC::kRC4, Mac::kSHA1, 128, V::kTLSv1},
    {0xC008, "ECDHE-ECDSA-DES-CBC3-SHA", "", "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", KX::kECDHE,
     AU::kECDSA, BC::k3DES, Mac::kSHA1, 112, V::kTLSv1},
    {0xC011, "ECDHE-RSA-RC4-SHA", "", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", KX::kECDHE, AU::kRSA,
     BC::kRC4, Mac::kSHA1, 128, V::kTLSv1},
    {0xC012, "ECDHE-RSA-DES-CBC3-SHA", "", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", KX::kECDHE,
     AU::kRSA, BC::k3DES, Mac::kSHA1, 112, V::kTLSv1},
    {0xC016, "AECDH-RC4-SHA", "", "TLS_ECDH_anon_WITH_RC4_128_SHA", KX::kAnonymous, AU::kAnonymous,
     BC::kRC4, Mac::kSHA1, 128, V::kTLSv1},
    {0xC017, "AECDH-DES-CBC3-SHA", "", "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", KX::kAnonymous,
     AU::kAnonymous, BC::k3DES, Mac::kSHA1, 112, V::kTLSv1},
    // RFC 5054 (SRP).
    {0xC01A, "SRP-3DES-EDE-CBC-SHA", "", "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA", KX::kSRP, AU::kSRP,
     BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    {0xC01B, "SRP-RSA-3DES-EDE-CBC-SHA", "", "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA", KX::kSRP,
     AU::kRSA, BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    {0xC01C, "SRP-DSS-3DES-EDE-CBC-SHA", "", "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA", KX::kSRP,
     AU::kDSS, BC::k3DES, Mac::kSHA1, 112, V::kSSLv3},
    // RFC 5489 (ECDHE-PSK).
    {0xC033, "ECDHE-PSK-RC4-SHA", "", "TLS_ECDHE_PSK_WITH_RC4_128_SHA", KX::kECDHE_PSK, AU::kPSK,
     BC::kRC4, Mac::kSHA1, 128, V::kTLSv1},
    {0xC034, "ECDHE-PSK-3DES-EDE-CBC-SHA", "", "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA",
     KX::kECDHE_PSK, AU::kPSK, BC::k3DES, Mac::kSHA1, 112, V::kTLSv1},
};

// ---------------------------------------------------------------------------------------------
// OpenSSL NID → closed set.

KeyExchange kexFromNid(int nid) {
  switch (nid) {
    case NID_kx_ecdhe:
      return KeyExchange::kECDHE;
    case NID_kx_dhe:
      return KeyExchange::kDHE;
    case NID_kx_rsa:
      return KeyExchange::kRSA;
    case NID_kx_psk:
      return KeyExchange::kPSK;
    case NID_kx_ecdhe_psk:
      return KeyExchange::kECDHE_PSK;
    case NID_kx_dhe_psk:
      return KeyExchange::kDHE_PSK;
    case NID_kx_rsa_psk:
      return KeyExchange::kRSA_PSK;
    case NID_kx_srp:
      return KeyExchange::kSRP;
    case NID_kx_gost:
    case NID_kx_gost18:
      return KeyExchange::kGOST;
    case NID_kx_any:
      return KeyExchange::kAny;
    default:
      return KeyExchange::kOther;
  }
}

Authentication authFromNid(int nid) {
  switch (nid) {
    case NID_auth_rsa:
      return Authentication::kRSA;
    case NID_auth_ecdsa:
      return Authentication::kECDSA;
    case NID_auth_dss:
      return Authentication::kDSS;
    case NID_auth_psk:
      return Authentication::kPSK;
    case NID_auth_srp:
      return Authentication::kSRP;
    case NID_auth_gost01:
    case NID_auth_gost12:
      return Authentication::kGOST;
    case NID_auth_null:
      return Authentication::kAnonymous;
    case NID_auth_any:
      return Authentication::kAny;
    default:
      return Authentication::kOther;
  }
}

BulkCipher cipherFromNid(int nid, bool ccm8, int bits) {
  switch (nid) {
    case NID_aes_128_gcm:
      return BulkCipher::kAES128GCM;
    case NID_aes_256_gcm:
      return BulkCipher::kAES256GCM;
    case NID_aes_128_ccm:
      return ccm8 ? BulkCipher::kAES128CCM8 : BulkCipher::kAES128CCM;
    case NID_aes_256_ccm:
      return ccm8 ? BulkCipher::kAES256CCM8 : BulkCipher::kAES256CCM;
    case NID_chacha20_poly1305:
      return BulkCipher::kCHACHA20POLY1305;
    case NID_aes_128_cbc:
      return BulkCipher::kAES128CBC;
    case NID_aes_256_cbc:
      return BulkCipher::kAES256CBC;
    case NID_camellia_128_cbc:
      return BulkCipher::kCAMELLIA128;
    case NID_camellia_256_cbc:
      return BulkCipher::kCAMELLIA256;
    case NID_aria_128_gcm:
      return BulkCipher::kARIA128GCM;
    case NID_aria_256_gcm:
      return BulkCipher::kARIA256GCM;
    case NID_seed_cbc:
      return BulkCipher::kSEED;
    case NID_idea_cbc:
      return BulkCipher::kIDEA;
    case NID_des_ede3_cbc:
      return BulkCipher::k3DES;
    case NID_des_cbc:
      return BulkCipher::kDES;
    case NID_rc4:
    case NID_rc4_40:
      return BulkCipher::kRC4;
    case NID_rc2_cbc:
    case NID_rc2_40_cbc:
      return BulkCipher::kRC2;
    case NID_id_Gost28147_89:
    case NID_gost89_cnt:
    case NID_gost89_cnt_12:
    case NID_magma_ctr_acpkm:
    case NID_kuznyechik_ctr_acpkm:
      return BulkCipher::kGOST;
    case NID_undef:
      // OpenSSL maps eNULL to NID_undef; an undefined NID with key bits is something else.
      return bits == 0 ? BulkCipher::kNULL : BulkCipher::kOther;
    default:
      return BulkCipher::kOther;
  }
}

Mac macFromNid(int nid) {
  switch (nid) {
    case NID_md5:
      return Mac::kMD5;
    case NID_sha1:
      return Mac::kSHA1;
    case NID_sha256:
      return Mac::kSHA256;
    case NID_sha384:
      return Mac::kSHA384;
    case NID_id_Gost28147_89_MAC:
    case NID_gost_mac_12:
    case NID_id_GostR3411_94:
    case NID_id_GostR3411_2012_256:
    case NID_magma_mac:
    case NID_kuznyechik_mac:
      return Mac::kGOST;
    default:
      return Mac::kOther;
  }
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The two signalling cipher-suite values (RFC 5746, RFC 7507): OpenSSL's table lists them,
// but they are never negotiated.
constexpr bool isSignallingValue(std::uint16_t id) { return id == 0x00FF || id == 0x5600; }

std::optional<CipherSuite> fromOpenSsl(const SSL_CIPHER* c) {
  CipherSuite s;
  s.id = SSL_CIPHER_get_protocol_id(c);
  if (isSignallingValue(s.id)) return std::nullopt;
  const char* name = SSL_CIPHER_get_name(c);
  if (name == nullptr || *name == '\0') return std::nullopt;
  s.openssl_name = name;
  if (const char* standard = SSL_CIPHER_standard_name(c); standard != nullptr) {
    s.iana_name = standard;
  }
  s.kex = kexFromNid(SSL_CIPHER_get_kx_nid(c));
  s.auth = authFromNid(SSL_CIPHER_get_auth_nid(c));
  if (s.auth == Authentication::kAnonymous) s.kex = KeyExchange::kAnonymous;
  // OpenSSL's GOST 2012 suites set several GOST signature bits at once, which no single
  // auth NID stands for; their key exchange says what they are.
  if (s.auth == Authentication::kOther && s.kex == KeyExchange::kGOST) {
    s.auth = Authentication::kGOST;
  }
  s.bits = SSL_CIPHER_get_bits(c, nullptr);
  // CCM and CCM_8 share a cipher NID; the suite's own names tell them apart.
  const bool ccm8 = contains(s.iana_name, "_CCM_8") || contains(s.openssl_name, "_CCM_8") ||
                    std::string_view(s.openssl_name).ends_with("-CCM8");
  s.cipher = cipherFromNid(SSL_CIPHER_get_cipher_nid(c), ccm8, s.bits);
  s.mac = SSL_CIPHER_is_aead(c) != 0 ? Mac::kAEAD : macFromNid(SSL_CIPHER_get_digest_nid(c));
  const char* min_version = SSL_CIPHER_get_version(c);
  s.min_version = min_version != nullptr ? parseVersion(min_version) : Version::kOther;
  s.tls13 = s.min_version == Version::kTLSv1_3;
  s.forward_secret = forwardSecret(s.kex);
  return s;
}

// Every suite SSL_CIPHER_find() resolves, in code-point order; empty if libssl cannot even
// create a context (then only the legacy table answers).
std::vector<CipherSuite> openSslSuites() {
  std::vector<CipherSuite> suites;
  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()),
                                                              &SSL_CTX_free);
  if (!ctx) return suites;
  const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  if (!ssl) return suites;
  for (unsigned code = 0; code <= 0xFFFF; ++code) {
    const unsigned char bytes[2] = {static_cast<unsigned char>(code >> 8),
                                    static_cast<unsigned char>(code & 0xFF)};
    const SSL_CIPHER* c = SSL_CIPHER_find(ssl.get(), bytes);
    if (c == nullptr) continue;
    if (auto suite = fromOpenSsl(c)) suites.push_back(std::move(*suite));
  }
  return suites;
}

CipherSuite fromLegacy(const LegacySuite& l) {
  CipherSuite s;
  s.openssl_name = l.openssl_name;
  s.iana_name = l.iana_name;
  s.id = l.id;
  s.kex = l.kex;
  s.auth = l.auth;
  s.cipher = l.cipher;
  s.mac = l.mac;
  s.bits = l.bits;
  s.forward_secret = forwardSecret(l.kex);
  s.tls13 = false;
  s.min_version = l.min_version;
  s.legacy = true;
  return s;
}

class SuiteTable {
 public:
  SuiteTable() : suites_(openSslSuites()) {
    for (const LegacySuite& l : kLegacySuites) {
      if (indexOf(l.id) == kNone) suites_.push_back(fromLegacy(l));
    }
    // Ids are unique (a legacy suite is added only when its id is absent), so std::sort gives
    // the one order; not std::stable_sort, whose temporary buffer GCC 12's ASan reports as an
    // alloc-dealloc mismatch inside libstdc++.
    std::sort(suites_.begin(), suites_.end(),
              [](const CipherSuite& a, const CipherSuite& b) { return a.id < b.id; });
    // suites_ is final from here on: the map's keys view its strings.
    by_name_.reserve(suites_.size() * 2 + std::size(kLegacySuites));
    for (std::size_t i = 0; i < suites_.size(); ++i) {
      addName(suites_[i].openssl_name, i);
      addName(suites_[i].iana_name, i);
    }
    for (const LegacySuite& l : kLegacySuites) {
      const std::size_t i = indexOf(l.id);
      addName(l.openssl_name, i);
      addName(l.alias, i);
      addName(l.iana_name, i);
    }
  }

  const CipherSuite* find(std::string_view name) const noexcept {
    name = trim(name);
    if (name.empty() || name.size() > longest_name_) return nullptr;
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &suites_[it->second];
  }

  std::span<const CipherSuite> all() const noexcept { return suites_; }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  std::size_t indexOf(std::uint16_t id) const {
    for (std::size_t i = 0; i < suites_.size(); ++i) {
      if (suites_[i].id == id) return i;
    }
    return kNone;
  }

  // The first suite to claim a name keeps it, so OpenSSL's own entries win.
  void addName(std::string_view name, std::size_t index) {
    if (name.empty() || index == kNone) return;
    if (by_name_.emplace(name, index).second) longest_name_ = std::max(longest_name_, name.size());
  }

  std::vector<CipherSuite> suites_;
  std::unordered_map<std::string_view, std::size_t, CaseInsensitiveHash, CaseInsensitiveEqual>
      by_name_;
  std::size_t longest_name_ = 0;
};

const SuiteTable* suiteTable() noexcept {
  try {
    static const SuiteTable table;
    return &table;
  } catch (...) {
    // Only allocation can fail here; the next call tries again.
    return nullptr;
  }
}

bool insecure(const CipherSuite& s) {
  if (s.kex == KeyExchange::kAnonymous || s.auth == Authentication::kAnonymous) return true;
  if (s.mac == Mac::kMD5) return true;
  switch (s.cipher) {
    case BulkCipher::kNULL:
    case BulkCipher::kRC4:
    case BulkCipher::k3DES:
    case BulkCipher::kDES:
    case BulkCipher::kRC2:
    case BulkCipher::kIDEA:
      return true;
    default:
      return false;
  }
}

// Whether `version` (not kOther) can have negotiated `s` at all.
bool negotiable(Version version, const CipherSuite& s) {
  if (s.tls13) return version == Version::kTLSv1_3;
  if (version == Version::kTLSv1_3) return false;
  const Version oldest = s.min_version == Version::kOther ? Version::kSSLv3 : s.min_version;
  return static_cast<int>(version) >= static_cast<int>(oldest);
}

// Consumes `prefix` from the front of `s`, case-insensitively.
bool consume(std::string_view& s, std::string_view prefix) {
  if (s.size() < prefix.size() || !iequals(s.substr(0, prefix.size()), prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool consumeSeparator(std::string_view& s) { return consume(s, ".") || consume(s, "_"); }

}  // namespace

Version parseVersion(std::string_view text) {
  std::string_view s = trim(text);
  if (consume(s, "SSL")) {
    consume(s, "v");
    if (!consume(s, "3")) return Version::kOther;
    if (s.empty()) return Version::kSSLv3;
    return consumeSeparator(s) && s == "0" ? Version::kSSLv3 : Version::kOther;
  }
  if (!consume(s, "TLS")) return Version::kOther;
  consume(s, "v");
  if (!consume(s, "1")) return Version::kOther;
  if (s.empty()) return Version::kTLSv1;
  if (!consumeSeparator(s) || s.size() != 1) return Version::kOther;
  switch (s.front()) {
    case '0':
      return Version::kTLSv1;
    case '1':
      return Version::kTLSv1_1;
    case '2':
      return Version::kTLSv1_2;
    case '3':
      return Version::kTLSv1_3;
    default:
      return Version::kOther;
  }
}

const CipherSuite* findCipherSuite(std::string_view name) {
  const SuiteTable* table = suiteTable();
  return table == nullptr ? nullptr : table->find(name);
}

std::span<const CipherSuite> allCipherSuites() {
  const SuiteTable* table = suiteTable();
  return table == nullptr ? std::span<const CipherSuite>() : table->all();
}

Grade grade(Version version, const CipherSuite* suite) {
  if (suite == nullptr) return Grade::kOther;
  if (insecure(*suite)) return Grade::kInsecure;
  if (version == Version::kOther) return suite->tls13 ? Grade::kRecommended : Grade::kOther;
  if (!negotiable(version, *suite)) return Grade::kOther;
  switch (version) {
    case Version::kSSLv3:
    case Version::kTLSv1:
    case Version::kTLSv1_1:
      return Grade::kObsolete;
    case Version::kTLSv1_3:
      return Grade::kRecommended;
    case Version::kTLSv1_2:
      return suite->forward_secret && suite->mac == Mac::kAEAD ? Grade::kRecommended
                                                               : Grade::kSecure;
    case Version::kOther:
      break;
  }
  return Grade::kOther;
}

Profile analyse(std::string_view version, std::string_view cipher) {
  Profile p;
  p.version = parseVersion(version);
  const CipherSuite* suite = findCipherSuite(cipher);
  if (suite != nullptr) {
    p.cipher_known = true;
    p.kex = suite->kex;
    p.auth = suite->auth;
    p.cipher = suite->cipher;
    p.mac = suite->mac;
    p.forward_secret = suite->forward_secret;
  }
  p.grade = grade(p.version, suite);
  return p;
}

}  // namespace mailsec::core::tls
