// DKIM verifier: one signed test message per verdict (tests/data/dkim/, made by
// make_messages.py), checked against keys served by a fake resolver as wire-format replies.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/auth/dkim_library.h"
#include "core/auth/dkim_message.h"
#include "core/auth/dkim_tags.h"
#include "core/auth/dkim_verifier.h"
#include "core/received/message_headers.h"
#include "tests/unit/auth/fake_key_resolver.h"

namespace mailsec::core::auth {
namespace {

using test::FakeKeyResolver;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string message(const std::string& name) {
  const std::string text =
      readFile(std::string(MAILSEC_DKIM_DATA_DIR) + "/messages/" + name + ".eml");
  EXPECT_FALSE(text.empty()) << name;
  return text;
}

std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// Serves keys.txt under <selector>._domainkey.mailsec.test; "nodata" exists without TXT.
void loadKeys(FakeKeyResolver& resolver) {
  std::istringstream keys(readFile(std::string(MAILSEC_DKIM_DATA_DIR) + "/keys.txt"));
  std::string line;
  while (std::getline(keys, line)) {
    const auto tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos);
    resolver.setTxt(line.substr(0, tab) + "._domainkey.mailsec.test", line.substr(tab + 1));
  }
  resolver.set("nodata._domainkey.mailsec.test", {DnsStatus::kNoData, {}});
}

class DkimTest : public ::testing::Test {
 protected:
  DkimTest() { loadKeys(resolver_); }
  FakeKeyResolver resolver_;
  DkimLibrary library_{resolver_};
};

struct Case {
  const char* message;
  DkimResult result;
  DkimReason reason;
  DkimAlgorithm algorithm;
  unsigned key_bits;  // 0: not checked
};

const Case kCases[] = {
    {"pass_rsa2048", DkimResult::kPass, DkimReason::kNone, DkimAlgorithm::kRsaSha256, 2048},
    {"pass_rsa1024", DkimResult::kPass, DkimReason::kNone, DkimAlgorithm::kRsaSha256, 1024},
    {"pass_simple", DkimResult::kPass, DkimReason::kNone, DkimAlgorithm::kRsaSha256, 2048},
    {"rsa_sha1", DkimResult::kPass, DkimReason::kNone, DkimAlgorithm::kRsaSha1, 2048},
    {"key_too_small_512", DkimResult::kPermerror, DkimReason::kKeyTooSmall,
     DkimAlgorithm::kRsaSha256, 512},
    {"body_altered", DkimResult::kFail, DkimReason::kBodyHashMismatch, DkimAlgorithm::kRsaSha256,
     2048},
    {"header_altered", DkimResult::kFail, DkimReason::kSignatureMismatch, DkimAlgorithm::kRsaSha256,
     2048},
    {"key_revoked", DkimResult::kPermerror, DkimReason::kKeyRevoked, DkimAlgorithm::kRsaSha256, 0},
    {"key_missing", DkimResult::kPermerror, DkimReason::kKeyNotFound, DkimAlgorithm::kRsaSha256, 0},
    {"key_nodata", DkimResult::kPermerror, DkimReason::kKeyNotFound, DkimAlgorithm::kRsaSha256, 0},
    {"key_garbage", DkimResult::kPermerror, DkimReason::kSyntax, DkimAlgorithm::kRsaSha256, 0},
    {"key_unknown_type", DkimResult::kPermerror, DkimReason::kUnsupportedAlgorithm,
     DkimAlgorithm::kRsaSha256, 0},
    {"expired", DkimResult::kPermerror, DkimReason::kExpired, DkimAlgorithm::kRsaSha256, 0},
    {"duplicate_d", DkimResult::kPermerror, DkimReason::kSyntax, DkimAlgorithm::kRsaSha256, 0},
    {"duplicate_bh", DkimResult::kPermerror, DkimReason::kSyntax, DkimAlgorithm::kRsaSha256, 0},
    {"bad_version", DkimResult::kPermerror, DkimReason::kSyntax, DkimAlgorithm::kRsaSha256, 0},
    {"missing_b", DkimResult::kPermerror, DkimReason::kSyntax, DkimAlgorithm::kRsaSha256, 0},
    {"unsupported_algorithm", DkimResult::kPermerror, DkimReason::kUnsupportedAlgorithm,
     DkimAlgorithm::kOther, 0},
};

TEST_F(DkimTest, OneVerdictPerReason) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.message);
    const DkimMessageResult got = verifyDkimMessage(library_, message(c.message));
    ASSERT_EQ(got.verdicts.size(), 1u);
    const DkimVerdict& v = got.verdicts[0];
    EXPECT_EQ(v.result, c.result) << "got " << toLabel(v.result) << ", want " << toLabel(c.result);
    EXPECT_EQ(v.reason, c.reason) << "got " << toLabel(v.reason) << ", want " << toLabel(c.reason);
    EXPECT_EQ(v.algorithm, c.algorithm) << "got " << toLabel(v.algorithm);
    // The first d= (for a duplicated d=, the one libopendkim would not have used).
    EXPECT_EQ(v.domain,
              std::string_view(c.message) == "duplicate_d" ? "evil.test" : "mailsec.test");
    if (c.key_bits != 0) {
      EXPECT_EQ(v.key_bits, c.key_bits);
    }
    EXPECT_FALSE(got.truncated);
  }
}

TEST_F(DkimTest, Ed25519WhenTheLibrarySupportsIt) {
  const DkimMessageResult got = verifyDkimMessage(library_, message("ed25519"));
  ASSERT_EQ(got.verdicts.size(), 1u);
  EXPECT_EQ(got.verdicts[0].algorithm, DkimAlgorithm::kEd25519Sha256);
  if (library_.supportsEd25519()) {
    EXPECT_EQ(got.verdicts[0].result, DkimResult::kPass) << toLabel(got.verdicts[0].reason);
  } else {
    EXPECT_EQ(got.verdicts[0].reason, DkimReason::kUnsupportedAlgorithm);
  }
}

TEST_F(DkimTest, NoDnsWhileFeedingOneLookupInFinish) {
  const std::string text = message("pass_rsa2048");
  const auto block = received::readHeaderBlock(text);
  DkimVerifier verifier(library_);
  for (const auto& field : block.fields) verifier.header(field.name, field.value);
  verifier.endOfHeaders();
  verifier.body(std::string_view(text).substr(block.header_bytes));
  EXPECT_EQ(resolver_.queries(), 0);
  std::vector<RecordFetch> records;
  const auto verdicts = verifier.finish(records);
  EXPECT_EQ(resolver_.queries(), 1);
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0].result, DkimResult::kPass);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].record, AuthRecord::kDkimKey);
  EXPECT_TRUE(verifier.finish(records).empty()) << "a second finish() verifies nothing";
}

TEST_F(DkimTest, FailedLookupsAreTemperrors) {
  const std::pair<DnsStatus, const char*> kFailures[] = {
      {DnsStatus::kTimeout, "timeout"},
      {DnsStatus::kServFail, "servfail"},
      {DnsStatus::kError, "error"},
  };
  for (const auto& [status, name] : kFailures) {
    SCOPED_TRACE(name);
    resolver_.set("k2048._domainkey.mailsec.test", {status, {}});
    const DkimMessageResult got = verifyDkimMessage(library_, message("pass_rsa2048"));
    ASSERT_EQ(got.verdicts.size(), 1u);
    EXPECT_EQ(got.verdicts[0].result, DkimResult::kTemperror);
    EXPECT_EQ(got.verdicts[0].reason, DkimReason::kOther);
    EXPECT_TRUE(got.records.empty()) << "a failed lookup fetched no record";
  }
  // A DNSSEC-bogus answer is counted, with its status.
  resolver_.set("k2048._domainkey.mailsec.test", {DnsStatus::kServFail, {}, Dnssec::kBogus});
  const DkimMessageResult bogus = verifyDkimMessage(library_, message("pass_rsa2048"));
  ASSERT_EQ(bogus.verdicts.size(), 1u);
  EXPECT_EQ(bogus.verdicts[0].result, DkimResult::kTemperror);
  ASSERT_EQ(bogus.records.size(), 1u);
  EXPECT_EQ(bogus.records[0].dnssec, Dnssec::kBogus);
}

TEST_F(DkimTest, RecordsCarryTheDnssecStatus) {
  const std::string key = readFile(std::string(MAILSEC_DKIM_DATA_DIR) + "/keys.txt");
  FakeKeyResolver::Entry entry;
  DkimMessageResult before = verifyDkimMessage(library_, message("pass_rsa2048"));
  ASSERT_EQ(before.records.size(), 1u);
  EXPECT_EQ(before.records[0].dnssec, Dnssec::kUnknown);
  // The same key, now as a validated answer.
  for (const std::string_view line : {std::string_view(key)}) {
    const auto start = line.find("k2048\t");
    ASSERT_NE(start, std::string_view::npos);
    const auto end = line.find('\n', start);
    entry.txt.emplace_back(line.substr(start + 6, end - start - 6));
  }
  entry.dnssec = Dnssec::kSecure;
  resolver_.set("k2048._domainkey.mailsec.test", entry);
  const DkimMessageResult got = verifyDkimMessage(library_, message("pass_rsa2048"));
  ASSERT_EQ(got.records.size(), 1u);
  EXPECT_EQ(got.records[0].dnssec, Dnssec::kSecure);
  ASSERT_EQ(got.verdicts.size(), 1u);
  EXPECT_EQ(got.verdicts[0].result, DkimResult::kPass);

  // A resolver that gives rdata but no packet: the hooks build the reply themselves.
  entry.packet = false;
  resolver_.set("k2048._domainkey.mailsec.test", entry);
  const DkimMessageResult synthesised = verifyDkimMessage(library_, message("pass_rsa2048"));
  ASSERT_EQ(synthesised.verdicts.size(), 1u);
  EXPECT_EQ(synthesised.verdicts[0].result, DkimResult::kPass);
  resolver_.set("missing._domainkey.mailsec.test", {DnsStatus::kNxDomain, {}, {}, false});
  const DkimMessageResult nx = verifyDkimMessage(library_, message("key_missing"));
  ASSERT_EQ(nx.verdicts.size(), 1u);
  EXPECT_EQ(nx.verdicts[0].reason, DkimReason::kKeyNotFound);
}

TEST_F(DkimTest, TwoKeyRecordsAreASyntaxError) {
  resolver_.set("k2048._domainkey.mailsec.test",
                {DnsStatus::kAnswer, {"v=DKIM1; p=", "v=DKIM1; p="}});
  const DkimMessageResult got = verifyDkimMessage(library_, message("pass_rsa2048"));
  ASSERT_EQ(got.verdicts.size(), 1u);
  EXPECT_EQ(got.verdicts[0].result, DkimResult::kPermerror);
  EXPECT_EQ(got.verdicts[0].reason, DkimReason::kSyntax);
}

TEST_F(DkimTest, EverySignatureGetsAVerdictInHeaderOrder) {
  const DkimMessageResult got = verifyDkimMessage(library_, message("two_signatures"));
  ASSERT_EQ(got.verdicts.size(), 2u);
  EXPECT_EQ(got.verdicts[0].result, DkimResult::kPass);
  EXPECT_EQ(got.verdicts[1].reason, DkimReason::kKeyNotFound);
  EXPECT_EQ(got.records.size(), 1u) << "NXDOMAIN fetched no record";
  EXPECT_EQ(resolver_.queries(), 2);
}

TEST_F(DkimTest, GoodSignatureBesideMalformedOnes) {
  // libopendkim keeps the signatures it refuses (dkim_header says DKIM_STAT_SYNTAX) in its
  // list: the verdicts must still line up with the fields.
  const std::string broken = message("missing_b");
  const std::string duplicate = message("duplicate_d");
  const auto first_field = [](const std::string& text) {
    const auto block = received::readHeaderBlock(text);
    return std::string(block.fields[0].name) + ":" + std::string(block.fields[0].value) + "\n";
  };
  const std::string text = first_field(broken) + message("pass_rsa2048");
  const std::string text2 = first_field(duplicate) + first_field(broken) + message("rsa_sha1");
  const DkimMessageResult got = verifyDkimMessage(library_, text);
  ASSERT_EQ(got.verdicts.size(), 2u);
  EXPECT_EQ(got.verdicts[0].reason, DkimReason::kSyntax);
  EXPECT_EQ(got.verdicts[1].result, DkimResult::kPass) << toLabel(got.verdicts[1].reason);
  const DkimMessageResult got2 = verifyDkimMessage(library_, text2);
  ASSERT_EQ(got2.verdicts.size(), 3u);
  EXPECT_EQ(got2.verdicts[0].reason, DkimReason::kSyntax);
  EXPECT_EQ(got2.verdicts[1].reason, DkimReason::kSyntax);
  EXPECT_EQ(got2.verdicts[2].result, DkimResult::kPass) << toLabel(got2.verdicts[2].reason);
  EXPECT_EQ(got2.verdicts[2].algorithm, DkimAlgorithm::kRsaSha1);
}

TEST_F(DkimTest, SignaturesPastTheLimitAreIgnoredAndCounted) {
  DkimLimits limits;
  limits.max_signatures = 1;
  const DkimMessageResult got = verifyDkimMessage(library_, message("two_signatures"), limits);
  ASSERT_EQ(got.verdicts.size(), 1u);
  EXPECT_EQ(got.verdicts[0].result, DkimResult::kPass);
  EXPECT_EQ(got.signatures_ignored, 1u);
  EXPECT_EQ(resolver_.queries(), 1) << "an ignored signature's key is not looked up";
}

TEST_F(DkimTest, InvalidTagListsAreNotLookedUp) {
  for (const char* name : {"duplicate_d", "duplicate_bh"}) {
    verifyDkimMessage(library_, message(name));
  }
  EXPECT_EQ(resolver_.queries(), 0);
}

TEST_F(DkimTest, UnsignedMessageHasNoVerdicts) {
  const DkimMessageResult got = verifyDkimMessage(library_, message("unsigned"));
  EXPECT_TRUE(got.verdicts.empty());
  EXPECT_EQ(resolver_.queries(), 0);
}

TEST_F(DkimTest, LineEndsAndChunkingDoNotMatter) {
  for (const char* name : {"pass_rsa2048", "pass_simple"}) {
    SCOPED_TRACE(name);
    for (const std::string& text : {message(name), crlf(message(name))}) {
      for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{65536}}) {
        const DkimMessageResult got = verifyDkimMessage(library_, text, {}, chunk);
        ASSERT_EQ(got.verdicts.size(), 1u);
        EXPECT_EQ(got.verdicts[0].result, DkimResult::kPass) << toLabel(got.verdicts[0].reason);
      }
    }
  }
}

TEST_F(DkimTest, CutBodyIsNotAFailure) {
  DkimLimits limits;
  limits.max_body_bytes = 10;
  const DkimMessageResult got = verifyDkimMessage(library_, message("pass_rsa2048"), limits);
  ASSERT_EQ(got.verdicts.size(), 1u);
  EXPECT_EQ(got.verdicts[0].result, DkimResult::kTemperror);
  EXPECT_TRUE(got.truncated);
}

TEST_F(DkimTest, CutHeaderIsNotAFailure) {
  DkimLimits limits;
  limits.max_header_bytes = 600;  // the signature and From fit, later fields do not
  const DkimMessageResult got = verifyDkimMessage(library_, message("pass_rsa2048"), limits);
  EXPECT_TRUE(got.truncated);
  for (const DkimVerdict& v : got.verdicts) EXPECT_NE(v.result, DkimResult::kFail);
}

TEST_F(DkimTest, VerifierMovesToAnotherThreadBetweenFeedingAndFinish) {
  const std::string text = message("pass_rsa2048");
  const auto block = received::readHeaderBlock(text);
  auto verifier = std::make_unique<DkimVerifier>(library_);
  for (const auto& field : block.fields) verifier->header(field.name, field.value);
  verifier->endOfHeaders();
  verifier->body(std::string_view(text).substr(block.header_bytes));
  std::vector<DkimVerdict> verdicts;
  std::thread pool([&] {
    DkimVerifier moved(std::move(*verifier));
    std::vector<RecordFetch> records;
    verdicts = moved.finish(records);
  });
  pool.join();
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0].result, DkimResult::kPass);
}

TEST_F(DkimTest, ManyThreadsShareOneLibrary) {
  const std::vector<std::string> texts = {message("pass_rsa2048"), message("body_altered"),
                                          message("key_missing"), message("rsa_sha1")};
  const DkimResult want[] = {DkimResult::kPass, DkimResult::kFail, DkimResult::kPermerror,
                             DkimResult::kPass};
  const std::size_t want_records[] = {1, 1, 0, 1};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::size_t k = static_cast<std::size_t>(t + i) % texts.size();
        const DkimMessageResult got = verifyDkimMessage(library_, texts[k]);
        if (got.verdicts.size() != 1 || got.verdicts[0].result != want[k] ||
            got.records.size() != want_records[k]) {
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(DkimTest, AbortedMessagesFreeTheirState) {
  // Under ASan (MAILSEC_SANITIZE=address) a leak here fails the run.
  const std::string text = message("pass_rsa2048");
  const auto block = received::readHeaderBlock(text);
  {
    DkimVerifier verifier(library_);
    verifier.header(block.fields[0].name, block.fields[0].value);
  }
  {
    DkimVerifier verifier(library_);
    for (const auto& field : block.fields) verifier.header(field.name, field.value);
    verifier.endOfHeaders();
    verifier.body("partial");
  }
  EXPECT_EQ(resolver_.queries(), 0);
}

// The rspamd corpus (keys not in DNS here): hostile-shaped signatures still get verdicts
// from the closed sets and never crash.
TEST_F(DkimTest, RspamdCorpusIsHandled) {
  for (const char* name : {"dkim_broken_key", "dkim_huge_hlist", "dkim_key_too_long",
                           "dkim_key_too_wide", "dkim_key_wide_ok", "dkim_large_hlist",
                           "dkim_many_sigs", "dkim_revoked_key", "dkim_sigs_at_limit"}) {
    SCOPED_TRACE(name);
    const std::string text =
        readFile(std::string(MAILSEC_DKIM_DATA_DIR) + "/rspamd/" + name + ".eml");
    ASSERT_FALSE(text.empty());
    const DkimMessageResult got = verifyDkimMessage(library_, text);
    EXPECT_FALSE(got.verdicts.empty());
    EXPECT_LE(got.verdicts.size(), DkimLimits{}.max_signatures);
    for (const DkimVerdict& v : got.verdicts) {
      EXPECT_NE(v.result, DkimResult::kPass);
      EXPECT_LE(v.domain.size(), 253u);
    }
  }
}

struct TagCase {
  const char* text;
  bool duplicate;
  bool malformed;
  std::size_t tags;
};

TEST(DkimTags, TagLists) {
  const TagCase kTagCases[] = {
      {"v=1; a=rsa-sha256; d=example.com", false, false, 3},
      {"v=1; a=rsa-sha256; d=example.com;", false, false, 3},
      {" v = 1 ;\r\n\td=example.com ; ", false, false, 2},
      {"v=1; d=a.example; d=b.example", true, false, 3},
      {"v=1; bh=x; bh=y;", true, false, 3},
      {"v=1; novalue; d=x", false, true, 2},
      {"v=1;; d=x", false, true, 2},
      {"1v=1", false, true, 1},
      {"", false, false, 0},
      {"V=1; v=1", false, false, 2},  // tag names are case-sensitive
  };
  for (const TagCase& c : kTagCases) {
    SCOPED_TRACE(c.text);
    const DkimTagList got = parseDkimTagList(c.text);
    EXPECT_EQ(got.duplicate, c.duplicate);
    EXPECT_EQ(got.malformed, c.malformed);
    EXPECT_EQ(got.tags.size(), c.tags);
  }
  const DkimTagList folded = parseDkimTagList("b=abc\r\n\t def; d=x");
  EXPECT_EQ(folded.first("b"), "abcdef");
  EXPECT_EQ(folded.first("d"), "x");
  EXPECT_FALSE(folded.first("s").has_value());
}

}  // namespace
}  // namespace mailsec::core::auth
