// tls_analyser_test.cc — the TLS analyser against libssl itself and against named cases.
//
// The table checks never trust the analyser's own reading of OpenSSL: they resolve every code
// point again, load the full `ALL:COMPLEMENTOFALL` cipher list, and compare each suite's facts
// with SSL_CIPHER_description(), which OpenSSL renders from its algorithm bit masks rather than
// from the NIDs the analyser maps. The legacy table is checked against the names and code
// points OpenSSL's own headers still define.
#include "core/tls/tls_analyser.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

// Counts every allocation of this test binary, so the hot-path test can assert there are none.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Out of line: inlined into callers, GCC takes free() here for a mismatched deallocation.
[[gnu::noinline]] void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace mailsec::core::tls {
namespace {

using KX = KeyExchange;
using AU = Authentication;
using BC = BulkCipher;
using V = Version;
using G = Grade;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::string hex(std::uint16_t id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out += kDigits[(id >> shift) & 0xF];
  }
  return out;
}

std::string describe(const Profile& p) {
  std::string out;
  out += toLabel(p.version);
  out += p.cipher_known ? " known " : " unknown ";
  out += toLabel(p.kex);
  out += " ";
  out += toLabel(p.auth);
  out += " ";
  out += toLabel(p.cipher);
  out += " ";
  out += toLabel(p.mac);
  out += p.forward_secret ? " pfs " : " no-pfs ";
  out += toLabel(p.grade);
  return out;
}

struct Libssl {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()), &SSL_CTX_free};
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl{nullptr, &SSL_free};
};

const SSL_CIPHER* libsslFind(SSL* ssl, std::uint16_t id) {
  const unsigned char bytes[2] = {static_cast<unsigned char>(id >> 8),
                                  static_cast<unsigned char>(id & 0xFF)};
  return SSL_CIPHER_find(ssl, bytes);
}

// ------------------------------------------------------------------------------------------
// The table.

TEST(TlsCipherTable, EverySuiteIsFoundByEachOfItsNames) {
  const auto all = allCipherSuites();
  ASSERT_GT(all.size(), 100u);
  std::optional<std::uint16_t> previous;
  for (const CipherSuite& s : all) {
    SCOPED_TRACE(s.openssl_name + " " + hex(s.id));
    if (previous) {
      EXPECT_LT(*previous, s.id) << "not in strict code-point order";
    }
    previous = s.id;
    EXPECT_EQ(findCipherSuite(s.openssl_name), &s);
    EXPECT_EQ(findCipherSuite(lower(s.openssl_name)), &s);
    if (s.iana_name.empty()) {
      // OpenSSL gives its GOST 2012 suites no standard name.
      EXPECT_EQ(s.kex, KX::kGOST) << "only GOST suites may lack an IANA name";
    } else {
      EXPECT_EQ(findCipherSuite(s.iana_name), &s);
      EXPECT_EQ(findCipherSuite(lower(s.iana_name)), &s);
      EXPECT_TRUE(s.iana_name.starts_with("TLS_")) << "got " << s.iana_name;
    }
    EXPECT_NE(s.kex, KX::kOther);
    EXPECT_NE(s.auth, AU::kOther);
    EXPECT_NE(s.cipher, BC::kOther);
    EXPECT_NE(s.mac, Mac::kOther);
    EXPECT_NE(s.min_version, V::kOther);
    EXPECT_EQ(s.tls13, s.min_version == V::kTLSv1_3);
    EXPECT_EQ(s.tls13, s.kex == KX::kAny) << "kex any is TLS 1.3's, and only TLS 1.3's";
    EXPECT_EQ(s.cipher == BC::kNULL, s.bits == 0) << "got bits " << s.bits;
  }
}

TEST(TlsCipherTable, HoldsEveryCodePointLibsslResolves) {
  Libssl lib;
  ASSERT_TRUE(lib.ctx);
  lib.ssl.reset(SSL_new(lib.ctx.get()));
  ASSERT_TRUE(lib.ssl);
  std::map<std::uint16_t, const CipherSuite*> by_id;
  for (const CipherSuite& s : allCipherSuites()) by_id[s.id] = &s;

  std::size_t found = 0;
  for (unsigned code = 0; code <= 0xFFFF; ++code) {
    const auto id = static_cast<std::uint16_t>(code);
    const SSL_CIPHER* c = libsslFind(lib.ssl.get(), id);
    const auto it = by_id.find(id);
    if (c == nullptr) {
      if (it != by_id.end()) {
        EXPECT_TRUE(it->second->legacy)
            << hex(id) << ": libssl does not know it, so it must be a legacy entry";
      }
      continue;
    }
    if (id == 0x00FF || id == 0x5600) {  // signalling values, not suites
      EXPECT_EQ(it, by_id.end()) << hex(id);
      continue;
    }
    ++found;
    ASSERT_NE(it, by_id.end()) << hex(id) << " " << SSL_CIPHER_get_name(c) << " missing";
    EXPECT_FALSE(it->second->legacy) << hex(id) << ": libssl's own entry must win";
    EXPECT_EQ(it->second->openssl_name, SSL_CIPHER_get_name(c));
    const char* standard = SSL_CIPHER_standard_name(c);
    EXPECT_EQ(it->second->iana_name, standard == nullptr ? "" : standard);
    EXPECT_EQ(it->second->bits, SSL_CIPHER_get_bits(c, nullptr));
  }
  std::size_t from_openssl = 0;
  for (const CipherSuite& s : allCipherSuites()) from_openssl += s.legacy ? 0 : 1;
  EXPECT_EQ(from_openssl, found);
  std::printf("[ INFO     ] libssl %s: %zu suites in OpenSSL's table, %zu legacy, %zu in all\n",
              OpenSSL_version(OPENSSL_VERSION), from_openssl, allCipherSuites().size() - found,
              allCipherSuites().size());
}

TEST(TlsCipherTable, HoldsEveryCipherOfTheFullCipherList) {
  Libssl lib;
  ASSERT_TRUE(lib.ctx);
  ASSERT_EQ(SSL_CTX_set_cipher_list(lib.ctx.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0"), 1);
  ASSERT_EQ(SSL_CTX_set_ciphersuites(
                lib.ctx.get(), TLS1_3_RFC_AES_128_GCM_SHA256
                ":" TLS1_3_RFC_AES_256_GCM_SHA384 ":" TLS1_3_RFC_CHACHA20_POLY1305_SHA256
                ":" TLS1_3_RFC_AES_128_CCM_SHA256 ":" TLS1_3_RFC_AES_128_CCM_8_SHA256),
            1);
  lib.ssl.reset(SSL_new(lib.ctx.get()));
  ASSERT_TRUE(lib.ssl);
  STACK_OF(SSL_CIPHER)* list = SSL_get_ciphers(lib.ssl.get());
  ASSERT_NE(list, nullptr);
  const int n = sk_SSL_CIPHER_num(list);
  ASSERT_GT(n, 100);
  int tls13 = 0;
  for (int i = 0; i < n; ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
    const std::string name = SSL_CIPHER_get_name(c);
    SCOPED_TRACE(name);
    const CipherSuite* s = findCipherSuite(name);
    ASSERT_NE(s, nullptr) << "got unknown, want found";
    EXPECT_EQ(s->id, SSL_CIPHER_get_protocol_id(c));
    EXPECT_FALSE(s->legacy);
    if (const char* standard = SSL_CIPHER_standard_name(c)) {
      EXPECT_EQ(findCipherSuite(standard), s);
    }
    tls13 += s->tls13 ? 1 : 0;
  }
  EXPECT_EQ(tls13, 5) << "TLS 1.3 suites in the list";
}

// SSL_CIPHER_description() renders "NAME VERSION Kx=.. Au=.. Enc=.. Mac=..".
std::string_view field(std::string_view description, std::string_view key) {
  const std::size_t at = description.find(key);
  if (at == std::string_view::npos) return {};
  std::string_view rest = description.substr(at + key.size());
  return rest.substr(0, rest.find_first_of(" \n"));
}

TEST(TlsCipherTable, FactsAgreeWithOpenSslsDescription) {
  const std::map<std::string_view, KX> kKex = {{"RSA", KX::kRSA},
                                               {"DH", KX::kDHE},
                                               {"ECDH", KX::kECDHE},
                                               {"PSK", KX::kPSK},
                                               {"ECDHEPSK", KX::kECDHE_PSK},
                                               {"DHEPSK", KX::kDHE_PSK},
                                               {"RSAPSK", KX::kRSA_PSK},
                                               {"SRP", KX::kSRP},
                                               {"GOST", KX::kGOST},
                                               {"GOST18", KX::kGOST},
                                               {"any", KX::kAny}};
  const std::map<std::string_view, AU> kAuth = {
      {"RSA", AU::kRSA},     {"ECDSA", AU::kECDSA},    {"DSS", AU::kDSS},
      {"PSK", AU::kPSK},     {"SRP", AU::kSRP},        {"GOST01", AU::kGOST},
      {"GOST12", AU::kGOST}, {"None", AU::kAnonymous}, {"any", AU::kAny}};
  const std::map<std::string_view, BC> kEnc = {{"AESGCM(128)", BC::kAES128GCM},
                                               {"AESGCM(256)", BC::kAES256GCM},
                                               {"AESCCM(128)", BC::kAES128CCM},
                                               {"AESCCM(256)", BC::kAES256CCM},
                                               {"AESCCM8(128)", BC::kAES128CCM8},
                                               {"AESCCM8(256)", BC::kAES256CCM8},
                                               {"CHACHA20/POLY1305(256)", BC::kCHACHA20POLY1305},
                                               {"AES(128)", BC::kAES128CBC},
                                               {"AES(256)", BC::kAES256CBC},
                                               {"Camellia(128)", BC::kCAMELLIA128},
                                               {"Camellia(256)", BC::kCAMELLIA256},
                                               {"ARIAGCM(128)", BC::kARIA128GCM},
                                               {"ARIAGCM(256)", BC::kARIA256GCM},
                                               {"SEED(128)", BC::kSEED},
                                               {"IDEA(128)", BC::kIDEA},
                                               {"3DES(168)", BC::k3DES},
                                               {"DES(56)", BC::kDES},
                                               {"RC4(128)", BC::kRC4},
                                               {"None", BC::kNULL},
                                               {"GOST89(256)", BC::kGOST},
                                               {"KUZNYECHIK", BC::kGOST},
                                               {"MAGMA", BC::kGOST}};
  const std::map<std::string_view, Mac> kMac = {{"AEAD", Mac::kAEAD},     {"SHA1", Mac::kSHA1},
                                                {"SHA256", Mac::kSHA256}, {"SHA384", Mac::kSHA384},
                                                {"MD5", Mac::kMD5},       {"GOST89", Mac::kGOST},
                                                {"GOST94", Mac::kGOST},   {"GOST2012", Mac::kGOST}};

  Libssl lib;
  ASSERT_TRUE(lib.ctx);
  lib.ssl.reset(SSL_new(lib.ctx.get()));
  ASSERT_TRUE(lib.ssl);
  for (const CipherSuite& s : allCipherSuites()) {
    if (s.legacy) continue;
    SCOPED_TRACE(s.openssl_name);
    const SSL_CIPHER* c = libsslFind(lib.ssl.get(), s.id);
    ASSERT_NE(c, nullptr);
    char buf[256];
    const std::string description = SSL_CIPHER_description(c, buf, sizeof buf);
    SCOPED_TRACE(description);
    const std::string_view kx = field(description, " Kx=");
    const std::string_view au = field(description, " Au=");
    const std::string_view enc = field(description, " Enc=");
    const std::string_view mac = field(description, " Mac=");
    const bool gost = kx == "GOST" || kx == "GOST18";

    ASSERT_TRUE(kKex.contains(kx)) << "unexpected Kx=" << kx;
    const KX want_kex = au == "None" ? KX::kAnonymous : kKex.at(kx);
    EXPECT_EQ(s.kex, want_kex) << "got " << toLabel(s.kex) << ", want " << toLabel(want_kex);

    // OpenSSL describes the GOST 2012 suites' combined signature bits as "unknown".
    ASSERT_TRUE(kAuth.contains(au) || (gost && au == "unknown")) << "unexpected Au=" << au;
    const AU want_auth = kAuth.contains(au) ? kAuth.at(au) : AU::kGOST;
    EXPECT_EQ(s.auth, want_auth) << "got " << toLabel(s.auth) << ", want " << toLabel(want_auth);

    ASSERT_TRUE(kEnc.contains(enc)) << "unexpected Enc=" << enc;
    EXPECT_EQ(s.cipher, kEnc.at(enc))
        << "got " << toLabel(s.cipher) << ", want " << toLabel(kEnc.at(enc));

    // Same for the OMAC of the Kuznyechik and Magma suites (RFC 9189).
    ASSERT_TRUE(kMac.contains(mac) || (gost && mac == "unknown")) << "unexpected Mac=" << mac;
    const Mac want_mac = kMac.contains(mac) ? kMac.at(mac) : Mac::kGOST;
    EXPECT_EQ(s.mac, want_mac) << "got " << toLabel(s.mac) << ", want " << toLabel(want_mac);

    EXPECT_EQ(s.min_version, parseVersion(SSL_CIPHER_get_version(c)));
  }
}

TEST(TlsCipherTable, ForwardSecrecyFollowsKeyExchange) {
  const std::map<KX, bool> kWant = {
      {KX::kECDHE, true},     {KX::kDHE, true},  {KX::kECDHE_PSK, true}, {KX::kDHE_PSK, true},
      {KX::kAnonymous, true}, {KX::kAny, true},  {KX::kRSA, false},      {KX::kPSK, false},
      {KX::kRSA_PSK, false},  {KX::kSRP, false}, {KX::kGOST, false}};
  for (const CipherSuite& s : allCipherSuites()) {
    ASSERT_TRUE(kWant.contains(s.kex)) << s.openssl_name;
    EXPECT_EQ(s.forward_secret, kWant.at(s.kex))
        << s.openssl_name << ": got " << s.forward_secret << ", want " << kWant.at(s.kex);
  }
}

// The legacy entries carry exactly the names and code points OpenSSL's headers define.
TEST(TlsCipherTable, LegacySuitesMatchOpenSslHeaders) {
  struct Known {
    unsigned long ck;  // OpenSSL's 0x0300xxxx cipher id
    const char* openssl_name;
    const char* iana_name;  // nullptr where the headers have no RFC name
  };
  const Known kKnown[] = {
      {SSL3_CK_RSA_RC4_40_MD5, SSL3_TXT_RSA_RC4_40_MD5, nullptr},
      {SSL3_CK_RSA_RC4_128_MD5, SSL3_TXT_RSA_RC4_128_MD5, SSL3_RFC_RSA_RC4_128_MD5},
      {SSL3_CK_RSA_RC4_128_SHA, SSL3_TXT_RSA_RC4_128_SHA, SSL3_RFC_RSA_RC4_128_SHA},
      {SSL3_CK_RSA_RC2_40_MD5, SSL3_TXT_RSA_RC2_40_MD5, nullptr},
      {SSL3_CK_RSA_DES_40_CBC_SHA, SSL3_TXT_RSA_DES_40_CBC_SHA, nullptr},
      {SSL3_CK_RSA_DES_64_CBC_SHA, SSL3_TXT_RSA_DES_64_CBC_SHA, nullptr},
      {SSL3_CK_RSA_DES_192_CBC3_SHA, SSL3_TXT_RSA_DES_192_CBC3_SHA, SSL3_RFC_RSA_DES_192_CBC3_SHA},
      {SSL3_CK_DHE_DSS_DES_40_CBC_SHA, SSL3_TXT_DHE_DSS_DES_40_CBC_SHA, nullptr},
      {SSL3_CK_EDH_DSS_DES_40_CBC_SHA, SSL3_TXT_EDH_DSS_DES_40_CBC_SHA, nullptr},
      {SSL3_CK_DHE_DSS_DES_64_CBC_SHA, SSL3_TXT_DHE_DSS_DES_64_CBC_SHA, nullptr},
      {SSL3_CK_EDH_DSS_DES_64_CBC_SHA, SSL3_TXT_EDH_DSS_DES_64_CBC_SHA, nullptr},
      {SSL3_CK_DHE_DSS_DES_192_CBC3_SHA, SSL3_TXT_DHE_DSS_DES_192_CBC3_SHA,
       SSL3_RFC_DHE_DSS_DES_192_CBC3_SHA},
      {SSL3_CK_EDH_DSS_DES_192_CBC3_SHA, SSL3_TXT_EDH_DSS_DES_192_CBC3_SHA, nullptr},
      {SSL3_CK_DHE_RSA_DES_40_CBC_SHA, SSL3_TXT_DHE_RSA_DES_40_CBC_SHA, nullptr},
      {SSL3_CK_EDH_RSA_DES_40_CBC_SHA, SSL3_TXT_EDH_RSA_DES_40_CBC_SHA, nullptr},
      {SSL3_CK_DHE_RSA_DES_64_CBC_SHA, SSL3_TXT_DHE_RSA_DES_64_CBC_SHA, nullptr},
      {SSL3_CK_EDH_RSA_DES_64_CBC_SHA, SSL3_TXT_EDH_RSA_DES_64_CBC_SHA, nullptr},
      {SSL3_CK_DHE_RSA_DES_192_CBC3_SHA, SSL3_TXT_DHE_RSA_DES_192_CBC3_SHA,
       SSL3_RFC_DHE_RSA_DES_192_CBC3_SHA},
      {SSL3_CK_EDH_RSA_DES_192_CBC3_SHA, SSL3_TXT_EDH_RSA_DES_192_CBC3_SHA, nullptr},
      {SSL3_CK_ADH_RC4_40_MD5, SSL3_TXT_ADH_RC4_40_MD5, nullptr},
      {SSL3_CK_ADH_RC4_128_MD5, SSL3_TXT_ADH_RC4_128_MD5, SSL3_RFC_ADH_RC4_128_MD5},
      {SSL3_CK_ADH_DES_40_CBC_SHA, SSL3_TXT_ADH_DES_40_CBC_SHA, nullptr},
      {SSL3_CK_ADH_DES_64_CBC_SHA, SSL3_TXT_ADH_DES_64_CBC_SHA, nullptr},
      {SSL3_CK_ADH_DES_192_CBC_SHA, SSL3_TXT_ADH_DES_192_CBC_SHA, SSL3_RFC_ADH_DES_192_CBC_SHA},
      {TLS1_CK_PSK_WITH_RC4_128_SHA, TLS1_TXT_PSK_WITH_RC4_128_SHA, TLS1_RFC_PSK_WITH_RC4_128_SHA},
      {TLS1_CK_PSK_WITH_3DES_EDE_CBC_SHA, TLS1_TXT_PSK_WITH_3DES_EDE_CBC_SHA,
       TLS1_RFC_PSK_WITH_3DES_EDE_CBC_SHA},
      {TLS1_CK_DHE_PSK_WITH_RC4_128_SHA, TLS1_TXT_DHE_PSK_WITH_RC4_128_SHA,
       TLS1_RFC_DHE_PSK_WITH_RC4_128_SHA},
      {TLS1_CK_DHE_PSK_WITH_3DES_EDE_CBC_SHA, TLS1_TXT_DHE_PSK_WITH_3DES_EDE_CBC_SHA,
       TLS1_RFC_DHE_PSK_WITH_3DES_EDE_CBC_SHA},
      {TLS1_CK_RSA_PSK_WITH_RC4_128_SHA, TLS1_TXT_RSA_PSK_WITH_RC4_128_SHA,
       TLS1_RFC_RSA_PSK_WITH_RC4_128_SHA},
      {TLS1_CK_RSA_PSK_WITH_3DES_EDE_CBC_SHA, TLS1_TXT_RSA_PSK_WITH_3DES_EDE_CBC_SHA,
       TLS1_RFC_RSA_PSK_WITH_3DES_EDE_CBC_SHA},
      {TLS1_CK_ECDHE_ECDSA_WITH_RC4_128_SHA, TLS1_TXT_ECDHE_ECDSA_WITH_RC4_128_SHA,
       TLS1_RFC_ECDHE_ECDSA_WITH_RC4_128_SHA},
      {TLS1_CK_ECDHE_ECDSA_WITH_DES_192_CBC3_SHA, TLS1_TXT_ECDHE_ECDSA_WITH_DES_192_CBC3_SHA,
       TLS1_RFC_ECDHE_ECDSA_WITH_DES_192_CBC3_SHA},
      {TLS1_CK_ECDHE_RSA_WITH_RC4_128_SHA, TLS1_TXT_ECDHE_RSA_WITH_RC4_128_SHA,
       TLS1_RFC_ECDHE_RSA_WITH_RC4_128_SHA},
      {TLS1_CK_ECDHE_RSA_WITH_DES_192_CBC3_SHA, TLS1_TXT_ECDHE_RSA_WITH_DES_192_CBC3_SHA,
       TLS1_RFC_ECDHE_RSA_WITH_DES_192_CBC3_SHA},
      {TLS1_CK_ECDH_anon_WITH_RC4_128_SHA, TLS1_TXT_ECDH_anon_WITH_RC4_128_SHA,
       TLS1_RFC_ECDH_anon_WITH_RC4_128_SHA},
      {TLS1_CK_ECDH_anon_WITH_DES_192_CBC3_SHA, TLS1_TXT_ECDH_anon_WITH_DES_192_CBC3_SHA,
       TLS1_RFC_ECDH_anon_WITH_DES_192_CBC3_SHA},
      {TLS1_CK_SRP_SHA_WITH_3DES_EDE_CBC_SHA, TLS1_TXT_SRP_SHA_WITH_3DES_EDE_CBC_SHA,
       TLS1_RFC_SRP_SHA_WITH_3DES_EDE_CBC_SHA},
      {TLS1_CK_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA, TLS1_TXT_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA,
       TLS1_RFC_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA},
      {TLS1_CK_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA, TLS1_TXT_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA,
       TLS1_RFC_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA},
      {TLS1_CK_ECDHE_PSK_WITH_RC4_128_SHA, TLS1_TXT_ECDHE_PSK_WITH_RC4_128_SHA,
       TLS1_RFC_ECDHE_PSK_WITH_RC4_128_SHA},
      {TLS1_CK_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA, TLS1_TXT_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA,
       TLS1_RFC_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA},
  };
  std::set<std::uint16_t> header_ids;
  for (const Known& k : kKnown) {
    const auto id = static_cast<std::uint16_t>(k.ck & 0xFFFF);
    header_ids.insert(id);
    SCOPED_TRACE(std::string(k.openssl_name) + " " + hex(id));
    const CipherSuite* s = findCipherSuite(k.openssl_name);
    ASSERT_NE(s, nullptr) << "got unknown, want found";
    EXPECT_EQ(s->id, id) << "got " << hex(s->id) << ", want " << hex(id);
    if (k.iana_name != nullptr) {
      EXPECT_EQ(findCipherSuite(k.iana_name), s) << k.iana_name;
    }
    EXPECT_EQ(grade(V::kTLSv1_2, s), G::kInsecure) << "every legacy suite is insecure";
  }
  for (const CipherSuite& s : allCipherSuites()) {
    if (!s.legacy) continue;
    EXPECT_TRUE(header_ids.contains(s.id)) << s.openssl_name << " not checked against headers";
    EXPECT_FALSE(s.tls13);
  }
}

// ------------------------------------------------------------------------------------------
// Named cases.

struct Case {
  const char* name;
  std::string_view version;
  std::string_view cipher;
  Profile want;
};

Profile known(V v, KX kx, AU au, BC bc, Mac mac, bool pfs, G g) {
  return Profile{v, true, kx, au, bc, mac, pfs, g};
}

Profile unknown(V v) {
  Profile p;
  p.version = v;
  return p;
}

TEST(TlsAnalyse, NamedCases) {
  const Case kCases[] = {
      {"ecdhe rsa gcm tls12", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, true, G::kRecommended)},
      {"iana spelling", "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, true, G::kRecommended)},
      {"lower case", "tlsv1.2", "ecdhe-rsa-aes128-gcm-sha256",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, true, G::kRecommended)},
      {"lower case iana", "TLS1_2", "tls_ecdhe_rsa_with_aes_128_gcm_sha256",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, true, G::kRecommended)},
      {"surrounding whitespace", " TLSv1.2\t", " ECDHE-RSA-AES128-GCM-SHA256\r\n",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, true, G::kRecommended)},
      {"rsa kex gcm", "TLSv1.2", "AES256-GCM-SHA384",
       known(V::kTLSv1_2, KX::kRSA, AU::kRSA, BC::kAES256GCM, Mac::kAEAD, false, G::kSecure)},
      {"ecdhe cbc sha384", "TLSv1.2", "ECDHE-RSA-AES256-SHA384",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kAES256CBC, Mac::kSHA384, true, G::kSecure)},
      {"ecdhe cbc sha1 tls12", "TLSv1.2", "ECDHE-RSA-AES128-SHA",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kAES128CBC, Mac::kSHA1, true, G::kSecure)},
      {"ecdhe cbc tls1", "TLSv1", "ECDHE-RSA-AES128-SHA",
       known(V::kTLSv1, KX::kECDHE, AU::kRSA, BC::kAES128CBC, Mac::kSHA1, true, G::kObsolete)},
      {"ecdhe cbc tls11", "TLSv1.1", "ECDHE-ECDSA-AES256-SHA",
       known(V::kTLSv1_1, KX::kECDHE, AU::kECDSA, BC::kAES256CBC, Mac::kSHA1, true, G::kObsolete)},
      {"rsa cbc sslv3", "SSLv3", "AES128-SHA",
       known(V::kSSLv3, KX::kRSA, AU::kRSA, BC::kAES128CBC, Mac::kSHA1, false, G::kObsolete)},
      {"tls13 aes256", "TLSv1.3", "TLS_AES_256_GCM_SHA384",
       known(V::kTLSv1_3, KX::kAny, AU::kAny, BC::kAES256GCM, Mac::kAEAD, true, G::kRecommended)},
      {"tls13 chacha", "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256",
       known(V::kTLSv1_3, KX::kAny, AU::kAny, BC::kCHACHA20POLY1305, Mac::kAEAD, true,
             G::kRecommended)},
      {"tls13 ccm", "TLS1.3", "TLS_AES_128_CCM_SHA256",
       known(V::kTLSv1_3, KX::kAny, AU::kAny, BC::kAES128CCM, Mac::kAEAD, true, G::kRecommended)},
      {"tls13 ccm8", "TLSv1.3", "TLS_AES_128_CCM_8_SHA256",
       known(V::kTLSv1_3, KX::kAny, AU::kAny, BC::kAES128CCM8, Mac::kAEAD, true, G::kRecommended)},
      {"tls13 mixed case", "TLSV1.3", "Tls_Aes_128_Gcm_Sha256",
       known(V::kTLSv1_3, KX::kAny, AU::kAny, BC::kAES128GCM, Mac::kAEAD, true, G::kRecommended)},
      {"tls12 ccm", "TLSv1.2", "ECDHE-ECDSA-AES256-CCM",
       known(V::kTLSv1_2, KX::kECDHE, AU::kECDSA, BC::kAES256CCM, Mac::kAEAD, true,
             G::kRecommended)},
      {"tls12 ccm8", "TLSv1.2", "AES128-CCM8",
       known(V::kTLSv1_2, KX::kRSA, AU::kRSA, BC::kAES128CCM8, Mac::kAEAD, false, G::kSecure)},
      {"tls12 ccm8 iana", "TLSv1.2", "TLS_PSK_DHE_WITH_AES_256_CCM_8",
       known(V::kTLSv1_2, KX::kDHE_PSK, AU::kPSK, BC::kAES256CCM8, Mac::kAEAD, true,
             G::kRecommended)},
      {"dhe gcm", "TLSv1.2", "DHE-RSA-AES256-GCM-SHA384",
       known(V::kTLSv1_2, KX::kDHE, AU::kRSA, BC::kAES256GCM, Mac::kAEAD, true, G::kRecommended)},
      {"dhe dss cbc", "TLSv1.2", "DHE-DSS-AES256-SHA256",
       known(V::kTLSv1_2, KX::kDHE, AU::kDSS, BC::kAES256CBC, Mac::kSHA256, true, G::kSecure)},
      {"ecdsa chacha", "TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305",
       known(V::kTLSv1_2, KX::kECDHE, AU::kECDSA, BC::kCHACHA20POLY1305, Mac::kAEAD, true,
             G::kRecommended)},
      {"aria", "TLSv1.2", "ECDHE-ARIA128-GCM-SHA256",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kARIA128GCM, Mac::kAEAD, true,
             G::kRecommended)},
      {"camellia", "TLSv1.2", "CAMELLIA256-SHA",
       known(V::kTLSv1_2, KX::kRSA, AU::kRSA, BC::kCAMELLIA256, Mac::kSHA1, false, G::kSecure)},
      {"seed", "TLSv1.2", "SEED-SHA",
       known(V::kTLSv1_2, KX::kRSA, AU::kRSA, BC::kSEED, Mac::kSHA1, false, G::kSecure)},
      {"psk gcm", "TLSv1.2", "PSK-AES128-GCM-SHA256",
       known(V::kTLSv1_2, KX::kPSK, AU::kPSK, BC::kAES128GCM, Mac::kAEAD, false, G::kSecure)},
      {"dhe psk gcm", "TLSv1.2", "DHE-PSK-AES128-GCM-SHA256",
       known(V::kTLSv1_2, KX::kDHE_PSK, AU::kPSK, BC::kAES128GCM, Mac::kAEAD, true,
             G::kRecommended)},
      {"ecdhe psk chacha", "TLSv1.2", "ECDHE-PSK-CHACHA20-POLY1305",
       known(V::kTLSv1_2, KX::kECDHE_PSK, AU::kPSK, BC::kCHACHA20POLY1305, Mac::kAEAD, true,
             G::kRecommended)},
      {"rsa psk gcm", "TLSv1.2", "RSA-PSK-AES128-GCM-SHA256",
       known(V::kTLSv1_2, KX::kRSA_PSK, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, false, G::kSecure)},
      {"srp rsa", "TLSv1.2", "SRP-RSA-AES-128-CBC-SHA",
       known(V::kTLSv1_2, KX::kSRP, AU::kRSA, BC::kAES128CBC, Mac::kSHA1, false, G::kSecure)},
      {"srp", "TLSv1.2", "SRP-AES-256-CBC-SHA",
       known(V::kTLSv1_2, KX::kSRP, AU::kSRP, BC::kAES256CBC, Mac::kSHA1, false, G::kSecure)},
      {"gost 2012", "TLSv1.2", "GOST2012-KUZNYECHIK-KUZNYECHIKOMAC",
       known(V::kTLSv1_2, KX::kGOST, AU::kGOST, BC::kGOST, Mac::kGOST, false, G::kSecure)},
      {"anonymous ecdh", "TLSv1.2", "AECDH-AES128-SHA",
       known(V::kTLSv1_2, KX::kAnonymous, AU::kAnonymous, BC::kAES128CBC, Mac::kSHA1, true,
             G::kInsecure)},
      {"anonymous dh gcm", "TLSv1.2", "ADH-AES256-GCM-SHA384",
       known(V::kTLSv1_2, KX::kAnonymous, AU::kAnonymous, BC::kAES256GCM, Mac::kAEAD, true,
             G::kInsecure)},
      {"anonymous iana", "TLSv1.2", "TLS_DH_anon_WITH_AES_128_CBC_SHA",
       known(V::kTLSv1_2, KX::kAnonymous, AU::kAnonymous, BC::kAES128CBC, Mac::kSHA1, true,
             G::kInsecure)},
      {"null sha256", "TLSv1.2", "NULL-SHA256",
       known(V::kTLSv1_2, KX::kRSA, AU::kRSA, BC::kNULL, Mac::kSHA256, false, G::kInsecure)},
      {"null md5", "TLSv1", "NULL-MD5",
       known(V::kTLSv1, KX::kRSA, AU::kRSA, BC::kNULL, Mac::kMD5, false, G::kInsecure)},
      {"ecdhe null", "TLSv1.2", "ECDHE-RSA-NULL-SHA",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kNULL, Mac::kSHA1, true, G::kInsecure)},
      {"idea", "TLSv1.2", "IDEA-CBC-SHA",
       known(V::kTLSv1_2, KX::kRSA, AU::kRSA, BC::kIDEA, Mac::kSHA1, false, G::kInsecure)},
      {"3des", "TLSv1.2", "DES-CBC3-SHA",
       known(V::kTLSv1_2, KX::kRSA, AU::kRSA, BC::k3DES, Mac::kSHA1, false, G::kInsecure)},
      {"3des iana", "TLSv1", "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
       known(V::kTLSv1, KX::kRSA, AU::kRSA, BC::k3DES, Mac::kSHA1, false, G::kInsecure)},
      {"3des edh openssl 1.0 name", "TLSv1", "EDH-RSA-DES-CBC3-SHA",
       known(V::kTLSv1, KX::kDHE, AU::kRSA, BC::k3DES, Mac::kSHA1, true, G::kInsecure)},
      {"3des dhe openssl 1.1 name", "TLSv1.2", "DHE-RSA-DES-CBC3-SHA",
       known(V::kTLSv1_2, KX::kDHE, AU::kRSA, BC::k3DES, Mac::kSHA1, true, G::kInsecure)},
      {"3des ecdhe", "TLSv1.2", "ECDHE-RSA-DES-CBC3-SHA",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::k3DES, Mac::kSHA1, true, G::kInsecure)},
      {"des", "SSLv3", "DES-CBC-SHA",
       known(V::kSSLv3, KX::kRSA, AU::kRSA, BC::kDES, Mac::kSHA1, false, G::kInsecure)},
      {"rc4 sha", "TLSv1", "RC4-SHA",
       known(V::kTLSv1, KX::kRSA, AU::kRSA, BC::kRC4, Mac::kSHA1, false, G::kInsecure)},
      {"rc4 md5", "TLSv1", "RC4-MD5",
       known(V::kTLSv1, KX::kRSA, AU::kRSA, BC::kRC4, Mac::kMD5, false, G::kInsecure)},
      {"rc4 iana", "TLSv1.2", "TLS_RSA_WITH_RC4_128_SHA",
       known(V::kTLSv1_2, KX::kRSA, AU::kRSA, BC::kRC4, Mac::kSHA1, false, G::kInsecure)},
      {"rc4 ecdhe", "TLSv1.2", "ECDHE-RSA-RC4-SHA",
       known(V::kTLSv1_2, KX::kECDHE, AU::kRSA, BC::kRC4, Mac::kSHA1, true, G::kInsecure)},
      {"export rc4", "SSLv3", "EXP-RC4-MD5",
       known(V::kSSLv3, KX::kRSA, AU::kRSA, BC::kRC4, Mac::kMD5, false, G::kInsecure)},
      {"export rc2", "SSLv3", "EXP-RC2-CBC-MD5",
       known(V::kSSLv3, KX::kRSA, AU::kRSA, BC::kRC2, Mac::kMD5, false, G::kInsecure)},
      {"export des edh", "TLSv1", "EXP-EDH-RSA-DES-CBC-SHA",
       known(V::kTLSv1, KX::kDHE, AU::kRSA, BC::kDES, Mac::kSHA1, true, G::kInsecure)},
      {"export iana", "TLSv1", "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5",
       known(V::kTLSv1, KX::kAnonymous, AU::kAnonymous, BC::kRC4, Mac::kMD5, true, G::kInsecure)},
      // A version the suite cannot be negotiated with: the report is inconsistent.
      {"tls13 suite with tls12", "TLSv1.2", "TLS_AES_128_GCM_SHA256",
       known(V::kTLSv1_2, KX::kAny, AU::kAny, BC::kAES128GCM, Mac::kAEAD, true, G::kOther)},
      {"tls13 suite with tls1", "TLSv1", "TLS_AES_256_GCM_SHA384",
       known(V::kTLSv1, KX::kAny, AU::kAny, BC::kAES256GCM, Mac::kAEAD, true, G::kOther)},
      {"tls12 suite with tls13", "TLSv1.3", "ECDHE-RSA-AES128-GCM-SHA256",
       known(V::kTLSv1_3, KX::kECDHE, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, true, G::kOther)},
      {"gcm suite with tls1", "TLSv1", "ECDHE-RSA-AES128-GCM-SHA256",
       known(V::kTLSv1, KX::kECDHE, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, true, G::kOther)},
      {"ecdhe suite with sslv3", "SSLv3", "ECDHE-RSA-AES128-SHA",
       known(V::kSSLv3, KX::kECDHE, AU::kRSA, BC::kAES128CBC, Mac::kSHA1, true, G::kOther)},
      {"insecure beats inconsistent", "TLSv1.3", "RC4-SHA",
       known(V::kTLSv1_3, KX::kRSA, AU::kRSA, BC::kRC4, Mac::kSHA1, false, G::kInsecure)},
      // Version unknown: only the suite can decide.
      {"tls13 suite, no version", "", "TLS_AES_128_GCM_SHA256",
       known(V::kOther, KX::kAny, AU::kAny, BC::kAES128GCM, Mac::kAEAD, true, G::kRecommended)},
      {"tls13 suite, cipher's version", "TLSv1/SSLv3", "TLS_AES_256_GCM_SHA384",
       known(V::kOther, KX::kAny, AU::kAny, BC::kAES256GCM, Mac::kAEAD, true, G::kRecommended)},
      {"3des, no version", "", "DES-CBC3-SHA",
       known(V::kOther, KX::kRSA, AU::kRSA, BC::k3DES, Mac::kSHA1, false, G::kInsecure)},
      {"tls12 suite, no version", "", "ECDHE-RSA-AES128-GCM-SHA256",
       known(V::kOther, KX::kECDHE, AU::kRSA, BC::kAES128GCM, Mac::kAEAD, true, G::kOther)},
      {"tls12 suite, old sendmail version", "TLSv1/SSLv3", "DHE-RSA-AES256-SHA",
       known(V::kOther, KX::kDHE, AU::kRSA, BC::kAES256CBC, Mac::kSHA1, true, G::kOther)},
      {"sslv2", "SSLv2", "AES128-SHA",
       known(V::kOther, KX::kRSA, AU::kRSA, BC::kAES128CBC, Mac::kSHA1, false, G::kOther)},
      // Unknown ciphers: no facts, no grade, whatever the version.
      {"unknown cipher", "TLSv1.2", "FOO-BAR", unknown(V::kTLSv1_2)},
      {"unknown cipher tls13", "TLSv1.3", "TLS_FOO", unknown(V::kTLSv1_3)},
      {"nothing", "", "", unknown(V::kOther)},
      {"prefix of a name", "TLSv1.2", "ECDHE-RSA-AES128-GCM", unknown(V::kTLSv1_2)},
      {"name plus suffix", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256X", unknown(V::kTLSv1_2)},
      {"two names", "TLSv1.2", "AES128-SHA AES256-SHA", unknown(V::kTLSv1_2)},
      {"signalling value", "TLSv1.2", "TLS_FALLBACK_SCSV", unknown(V::kTLSv1_2)},
      {"renegotiation scsv", "TLSv1.2", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", unknown(V::kTLSv1_2)},
      {"libressl tls13 name", "TLSv1.3", "AEAD-AES128-GCM-SHA256", unknown(V::kTLSv1_3)},
      {"gnutls name", "TLS1.2", "ECDHE_RSA_AES_256_GCM_SHA384", unknown(V::kTLSv1_2)},
      {"static ecdh, not in any table", "TLSv1.2", "ECDH-RSA-AES128-SHA", unknown(V::kTLSv1_2)},
  };
  for (const Case& c : kCases) {
    const Profile got = analyse(c.version, c.cipher);
    EXPECT_EQ(describe(got), describe(c.want))
        << c.name << ": analyse(\"" << c.version << "\", \"" << c.cipher << "\")";
  }
}

TEST(TlsGrade, UnknownSuiteIsOtherWhateverTheVersion) {
  for (V v : {V::kSSLv3, V::kTLSv1, V::kTLSv1_1, V::kTLSv1_2, V::kTLSv1_3, V::kOther}) {
    EXPECT_EQ(grade(v, nullptr), G::kOther) << "version " << toLabel(v);
  }
}

// Every (version, suite) pair of the table against the rules in the header, restated.
TEST(TlsGrade, EveryPairFollowsTheRules) {
  for (const CipherSuite& s : allCipherSuites()) {
    const bool bad = s.kex == KX::kAnonymous || s.cipher == BC::kNULL || s.cipher == BC::kRC4 ||
                     s.cipher == BC::k3DES || s.cipher == BC::kDES || s.cipher == BC::kRC2 ||
                     s.cipher == BC::kIDEA || s.mac == Mac::kMD5;
    for (V v : {V::kSSLv3, V::kTLSv1, V::kTLSv1_1, V::kTLSv1_2, V::kTLSv1_3, V::kOther}) {
      G want;
      const bool older_than_min = static_cast<int>(v) < static_cast<int>(s.min_version);
      if (bad) {
        want = G::kInsecure;
      } else if (v == V::kOther) {
        want = s.tls13 ? G::kRecommended : G::kOther;
      } else if (s.tls13 != (v == V::kTLSv1_3) || older_than_min) {
        want = G::kOther;
      } else if (v == V::kTLSv1_3) {
        want = G::kRecommended;
      } else if (v == V::kTLSv1_2) {
        want = s.forward_secret && s.mac == Mac::kAEAD ? G::kRecommended : G::kSecure;
      } else {
        want = G::kObsolete;
      }
      const G got = grade(v, &s);
      EXPECT_EQ(got, want) << s.openssl_name << " with " << toLabel(v) << ": got " << toLabel(got)
                           << ", want " << toLabel(want);
    }
  }
}

// ------------------------------------------------------------------------------------------
// Versions.

TEST(TlsParseVersion, Table) {
  const struct {
    std::string_view text;
    V want;
  } kCases[] = {
      {"SSLv3", V::kSSLv3},
      {"sslv3", V::kSSLv3},
      {"SSL3", V::kSSLv3},
      {"SSLv3.0", V::kSSLv3},
      {"TLSv1", V::kTLSv1},
      {"TLSv1.0", V::kTLSv1},
      {"TLS1", V::kTLSv1},
      {"TLS1_0", V::kTLSv1},
      {"TLS1.0", V::kTLSv1},
      {"TLSv1.1", V::kTLSv1_1},
      {"TLS1_1", V::kTLSv1_1},
      {"TLS1.1", V::kTLSv1_1},
      {"TLSv1.2", V::kTLSv1_2},
      {"TLS1_2", V::kTLSv1_2},
      {"TLS1.2", V::kTLSv1_2},
      {"TLSv1_2", V::kTLSv1_2},
      {"TLSv1.3", V::kTLSv1_3},
      {"TLS1_3", V::kTLSv1_3},
      {"TLS1.3", V::kTLSv1_3},
      {"tlsv1.3", V::kTLSv1_3},
      {"TLSV1.2", V::kTLSv1_2},
      {"tls1_2", V::kTLSv1_2},
      {" TLSv1.2 ", V::kTLSv1_2},
      {"\tTLSv1.3\r\n", V::kTLSv1_3},
      {"", V::kOther},
      {"   ", V::kOther},
      {"SSLv2", V::kOther},
      {"SSLv3.1", V::kOther},
      {"SSL", V::kOther},
      {"TLS", V::kOther},
      {"TLSv", V::kOther},
      {"TLSv1.", V::kOther},
      {"TLSv1_", V::kOther},
      {"TLSv1.4", V::kOther},
      {"TLSv1.9", V::kOther},
      {"TLSv2", V::kOther},
      {"TLSv1.2.1", V::kOther},
      {"TLSv12", V::kOther},
      {"TLSv1.2x", V::kOther},
      {"xTLSv1.2", V::kOther},
      {"TLS 1.2", V::kOther},
      {"TLSv1/SSLv3", V::kOther},
      {"DTLSv1.2", V::kOther},
      {"UNKNOWN", V::kOther},
      {"(NONE)", V::kOther},
      {std::string_view("TLSv1.2\0", 8), V::kOther},
      {std::string_view("TLS\0v1.2", 8), V::kOther},
      {"TLSv1.\xb2", V::kOther},
  };
  for (const auto& c : kCases) {
    const V got = parseVersion(c.text);
    EXPECT_EQ(got, c.want) << "parseVersion(\"" << c.text << "\"): got " << toLabel(got)
                           << ", want " << toLabel(c.want);
  }
}

// ------------------------------------------------------------------------------------------
// Hostile input.

void expectNothingKnown(std::string_view version, std::string_view cipher) {
  const Profile p = analyse(version, cipher);
  EXPECT_EQ(describe(p), describe(unknown(V::kOther)))
      << "input of " << version.size() << " and " << cipher.size() << " bytes";
  EXPECT_EQ(findCipherSuite(cipher), nullptr);
  EXPECT_EQ(parseVersion(version), V::kOther);
}

TEST(TlsHostileInput, LongStrings) {
  expectNothingKnown(std::string(10 * 1024, 'A'), std::string(10 * 1024, 'A'));
  std::string repeated;
  while (repeated.size() < 10 * 1024) repeated += "ECDHE-RSA-AES128-GCM-SHA256";
  expectNothingKnown(repeated, repeated);
  expectNothingKnown(std::string(10 * 1024, ' ') + "x", std::string(10 * 1024, '\t') + "x");
  expectNothingKnown(std::string(1 << 20, 'T'), std::string(1 << 20, '\xff'));
}

TEST(TlsHostileInput, EmbeddedNul) {
  using namespace std::string_view_literals;
  expectNothingKnown("TLSv1.2\0"sv, "ECDHE-RSA-AES128-GCM-SHA256\0"sv);
  expectNothingKnown("\0TLSv1.2"sv, "\0ECDHE-RSA-AES128-GCM-SHA256"sv);
  expectNothingKnown("TLSv1\0.2"sv, "ECDHE-RSA\0-AES128-GCM-SHA256"sv);
  expectNothingKnown(std::string(64, '\0'), std::string(64, '\0'));
}

TEST(TlsHostileInput, HighBytes) {
  std::string high;
  for (int b = 0x80; b <= 0xff; ++b) high += static_cast<char>(b);
  expectNothingKnown(high, high);
  // A valid name with one byte replaced by its Latin-1 look-alike or a UTF-8 sequence.
  expectNothingKnown(
      "TLSv1\xb7"
      "2",
      "ECDHE\xadRSA-AES128-GCM-SHA256");
  expectNothingKnown("TLSv1.2\xc2\xa0", "ECDHE-RSA-AES128-GCM-SHA256\xc2\xa0");
  // Every single byte, as a version and as a cipher name.
  for (int b = 0; b <= 0xff; ++b) {
    const std::string one(1, static_cast<char>(b));
    expectNothingKnown(one, one);
  }
}

// Random mutations of real names never crash and never half-match: a name is either found
// exactly (case aside) or not at all.
TEST(TlsHostileInput, RandomMutations) {
  std::mt19937 rng(20240611);
  std::vector<std::string> names;
  for (const CipherSuite& s : allCipherSuites()) {
    names.push_back(s.openssl_name);
    if (!s.iana_name.empty()) names.push_back(s.iana_name);
  }
  ASSERT_FALSE(names.empty());
  std::uniform_int_distribution<std::size_t> pick(0, names.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 20000; ++i) {
    std::string s = names[pick(rng)];
    std::uniform_int_distribution<std::size_t> pos(0, s.size() - 1);
    switch (i % 4) {
      case 0:
        s[pos(rng)] = static_cast<char>(byte(rng));
        break;
      case 1:
        s.insert(pos(rng), 1, static_cast<char>(byte(rng)));
        break;
      case 2:
        s.erase(pos(rng), 1);
        break;
      default:
        s.resize(pos(rng));
        break;
    }
    const CipherSuite* found = findCipherSuite(s);
    if (found != nullptr) {
      std::string_view trimmed = s;
      while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
        trimmed.remove_prefix(1);
      }
      while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
        trimmed.remove_suffix(1);
      }
      const std::string key = lower(trimmed);
      const bool exact = key == lower(found->openssl_name) || key == lower(found->iana_name);
      // The EDH- spellings of legacy 0x0011-0x0016 are the only other names.
      const bool alias = found->id >= 0x0011 && found->id <= 0x0016;
      EXPECT_TRUE(exact || alias) << "\"" << s << "\" found " << found->openssl_name;
    }
    const Profile p = analyse(s, s);
    if (!p.cipher_known) {
      EXPECT_EQ(p.grade, G::kOther) << s;
    }
  }
}

TEST(TlsHotPath, LookupsDoNotAllocate) {
  (void)allCipherSuites();  // build the table first
  const std::string long_name(10 * 1024, 'x');
  const long before = g_allocations.load();
  int known_count = 0;
  for (int i = 0; i < 1000; ++i) {
    known_count += analyse("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256").cipher_known ? 1 : 0;
    known_count += analyse("tlsv1.3", "tls_aes_256_gcm_sha384").cipher_known ? 1 : 0;
    known_count += analyse(" TLSv1 ", " EDH-RSA-DES-CBC3-SHA ").cipher_known ? 1 : 0;
    known_count += analyse("garbage", "FOO-BAR").cipher_known ? 1 : 0;
    known_count += analyse(long_name, long_name).cipher_known ? 1 : 0;
  }
  const long allocations = g_allocations.load() - before;
  EXPECT_EQ(allocations, 0) << "got " << allocations << " allocations, want none";
  EXPECT_EQ(known_count, 3000);
}

// The table is built on first use; many threads racing to be first must all see the same one.
// (ctest runs each test in its own process, so this one really is the first use.)
TEST(TlsConcurrency, FirstUseFromManyThreads) {
  constexpr int kThreads = 8;
  std::vector<const CipherSuite*> seen(kThreads, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&seen, t] {
      seen[static_cast<std::size_t>(t)] = findCipherSuite("TLS_AES_128_GCM_SHA256");
      for (int i = 0; i < 1000; ++i) {
        (void)analyse("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256");
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_NE(seen[0], nullptr);
  for (const CipherSuite* s : seen) EXPECT_EQ(s, seen[0]);
}

}  // namespace
}  // namespace mailsec::core::tls
