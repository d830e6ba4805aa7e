// documented_forms_test.cc — the vendor forms the corpus lacks, written here in the format each
// MTA documents or its source prints (host names and addresses are documentation values):
// Exim ≥ 4.92, OpenSMTPD, qmail-tls, Cisco AsyncOS, Microsoft SMTPSVC over TLS, Exchange (TLS),
// Exchange 2013+ with curve suffix, Exchange Online HTTPS, Google SMTPS/ESMTPSA TLS 1.3,
// Sendmail 8.17 TLS 1.3, Amazon SES, Zimbra, LibreSSL names, and every IANA protocol name.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/received/received_parser.h"

namespace mailsec::core::received {
namespace {

using tls::Version;

struct FormCase {
  const char* name;
  const char* value;
  Protocol protocol;
  HopTls tls;
  TlsEvidence evidence;
  Version version = Version::kOther;
  std::string cipher = "";
  int bits = 0;
  ClientCert cert = ClientCert::kUnknown;
};

const std::vector<FormCase>& formCases() {
  static const std::vector<FormCase> cases = {
      {"exim_4_92_tls13",
       "from mail.example.org ([192.0.2.1] helo=mail.example.org)\r\n\tby mx.example.net with "
       "esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\r\n\t(Exim 4.96)\r\n\t(envelope-from "
       "<a@example.org>)\r\n\tid 1qAbCd-000123-4X\r\n\tfor b@example.net;\r\n\tMon, 04 Dec 2023 "
       "10:00:00 +0000",
       Protocol::kESMTPS, HopTls::kTrue, TlsEvidence::kExim, Version::kTLSv1_3,
       "TLS_AES_256_GCM_SHA384"},
      {"exim_4_9x_gnutls_colon",
       "from mail.example.org ([192.0.2.1]) by mx.example.net with esmtps "
       "(TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256) (Exim 4.92) id 1x; Mon, 1 Jan 2020 00:00:00 "
       "+0000",
       Protocol::kESMTPS, HopTls::kTrue, TlsEvidence::kColon, Version::kTLSv1_2,
       "ECDHE_RSA_AES_256_GCM_SHA384", 256},
      {"opensmtpd",
       "from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.net (OpenSMTPD) with "
       "ESMTPS id 3ae0e6f2 (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO) for <b@example.net>; Mon, 4 Dec "
       "2023 10:00:00 +0000 (UTC)",
       Protocol::kESMTPS, HopTls::kTrue, TlsEvidence::kColon, Version::kTLSv1_3,
       "TLS_AES_256_GCM_SHA384", 256},
      {"opensmtpd_verified",
       "from a.example.org (a.example.org [192.0.2.1]) by b.example.net (OpenSMTPD) with ESMTPS id "
       "1 (TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256:YES); Mon, 4 Dec 2023 10:00:00 +0000",
       Protocol::kESMTPS, HopTls::kTrue, TlsEvidence::kColon, Version::kTLSv1_2,
       "ECDHE-RSA-AES256-GCM-SHA384", 256, ClientCert::kVerified},
      {"qmail_tls",
       "from unknown (HELO mail.example.org) (192.0.2.1) by mx.example.net with "
       "(DHE-RSA-AES256-SHA encrypted) SMTP; 4 Dec 2023 10:00:00 -0000",
       Protocol::kSMTP, HopTls::kTrue, TlsEvidence::kQmail, Version::kOther, "DHE-RSA-AES256-SHA"},
      {"cisco_asyncos_slash",
       "from mail.example.org ([192.0.2.1]) by esa1.example.net with ESMTP/TLS/"
       "ECDHE-RSA-AES256-GCM-SHA384; 04 Dec 2023 10:00:00 +0000",
       Protocol::kESMTP, HopTls::kTrue, TlsEvidence::kSlash, Version::kOther,
       "ECDHE-RSA-AES256-GCM-SHA384"},
      {"smtpsvc_over_tls",
       "from mail.example.org ([192.0.2.1]) by iis.example.net over TLS secured channel with "
       "Microsoft SMTPSVC(6.0.3790.4675); Mon, 4 Dec 2023 10:00:00 +0100",
       Protocol::kSMTPSVC, HopTls::kTrue, TlsEvidence::kOverTlsChannel},
      {"exchange_2007_tls",
       "from EX1.example.net (192.0.2.1) by EX2.example.net (192.0.2.2) with Microsoft SMTP "
       "Server (TLS) id 8.1.436.0; Mon, 4 Dec 2023 10:00:00 +0100",
       Protocol::kExchange, HopTls::kTrue, TlsEvidence::kExchangeTls},
      {"exchange_2010_cleartext",
       "from EX1.example.net (192.0.2.1) by EX2.example.net (192.0.2.2) with Microsoft SMTP "
       "Server id 14.3.498.0; Mon, 4 Dec 2023 10:00:00 +0100",
       Protocol::kExchange, HopTls::kFalse, TlsEvidence::kVendorNoTls},
      {"exchange_2013_curve_suffix",
       "from EX1.example.net (192.0.2.1) by EX2.example.net (192.0.2.2) with Microsoft SMTP "
       "Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384_P384) id "
       "15.0.1497.2; Mon, 4 Dec 2023 10:00:00 +0100",
       Protocol::kExchange, HopTls::kTrue, TlsEvidence::kKeyValue, Version::kTLSv1_2,
       "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384_P384"},
      {"exchange_online_tls13",
       "from AM6PR01MB0001.eurprd01.prod.exchangelabs.com (2603:10a6:20b::1) by "
       "AM6PR01MB0002.eurprd01.prod.exchangelabs.com (2603:10a6:20b::2) with Microsoft SMTP "
       "Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.7633.0; Mon, 4 Dec 2023 "
       "10:00:00 +0000",
       Protocol::kExchange, HopTls::kTrue, TlsEvidence::kKeyValue, Version::kTLSv1_3,
       "TLS_AES_256_GCM_SHA384"},
      {"exchange_online_https",
       "from AM6PR01MB0001.eurprd01.prod.exchangelabs.com ([fe80::1]) by "
       "AM6PR01MB0001.eurprd01.prod.exchangelabs.com ([fe80::1%4]) with HTTPS; Mon, 4 Dec 2023 "
       "10:00:00 +0000",
       Protocol::kHTTPS, HopTls::kTrue, TlsEvidence::kProtocol},
      {"google_esmtpsa_tls13",
       "from [192.168.1.2] ([198.51.100.7]) by smtp.gmail.com with ESMTPSA id "
       "a1sm123456wrx.12.2023.12.04.02.00.00 for <b@example.net> (version=TLS1_3 "
       "cipher=TLS_AES_128_GCM_SHA256 bits=128/128); Mon, 04 Dec 2023 02:00:00 -0800 (PST)",
       Protocol::kESMTPSA, HopTls::kTrue, TlsEvidence::kKeyValue, Version::kTLSv1_3,
       "TLS_AES_128_GCM_SHA256", 128},
      {"google_smtps",
       "from mail.example.org (mail.example.org [192.0.2.1]) by mx.google.com with SMTPS id "
       "x1si1.2023.12.04; Mon, 04 Dec 2023 02:00:00 -0800 (PST)",
       Protocol::kSMTPS, HopTls::kTrue, TlsEvidence::kProtocol},
      {"sendmail_8_17_tls13",
       "from client.example.org (client.example.org [192.0.2.1]) by mx.example.net "
       "(8.17.1.9/8.17.1.9/Debian-2) with ESMTPS id 3B4A0000000001 (version=TLSv1.3 "
       "cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NOT) for <b@example.net>; Mon, 4 Dec 2023 "
       "10:00:00 GMT",
       Protocol::kESMTPS, HopTls::kTrue, TlsEvidence::kKeyValue, Version::kTLSv1_3,
       "TLS_AES_256_GCM_SHA384", 256, ClientCert::kNotRequested},
      {"sendmail_verify_ok",
       "from c.example.org (c.example.org [192.0.2.1]) by mx.example.net (8.17.1.9/8.17.1.9) with "
       "ESMTPS id 1 (version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=OK); Mon, "
       "4 Dec 2023 10:00:00 GMT",
       Protocol::kESMTPS, HopTls::kTrue, TlsEvidence::kKeyValue, Version::kTLSv1_2,
       "ECDHE-RSA-AES256-GCM-SHA384", 256, ClientCert::kVerified},
      {"amazon_ses_smtp_interface",
       "from mail.example.org (ec2-192-0-2-1.compute-1.amazonaws.com [192.0.2.1]) by "
       "email-smtp.amazonaws.com with SMTP (SimpleEmailService-d-ABC123) id "
       "abcdef0123456789; Mon, 04 Dec 2023 10:00:00 +0000 (UTC)",
       Protocol::kSMTP, HopTls::kFalse, TlsEvidence::kProtocol},
      {"amazon_ses_outbound_postfix",
       "from a8-30.smtp-out.amazonses.com (a8-30.smtp-out.amazonses.com [54.240.8.30]) "
       "(using TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)) (No client "
       "certificate requested) by mx.example.net (Postfix) with ESMTPS id 4Sk1; Mon, 4 Dec 2023 "
       "10:00:00 +0000 (UTC)",
       Protocol::kESMTPS, HopTls::kTrue, TlsEvidence::kPostfix, Version::kTLSv1_2,
       "ECDHE-RSA-AES128-GCM-SHA256", 128, ClientCert::kNotRequested},
      {"zimbra_lmtp",
       "from mail.example.net (LHLO mail.example.net) (192.0.2.10) by mail.example.net with "
       "LMTP; Mon, 4 Dec 2023 10:00:00 +0100 (CET)",
       Protocol::kLMTP, HopTls::kFalse, TlsEvidence::kProtocol},
      {"zimbra_webmail_http",
       "from mail.example.net ([192.0.2.10]) by mail.example.net (Zimbra) with HTTP; Mon, 4 Dec "
       "2023 10:00:00 +0100 (CET)",
       Protocol::kHTTP, HopTls::kFalse, TlsEvidence::kProtocol},
      {"libressl_tls13_name",
       "from a.example.org (a.example.org [192.0.2.1]) by b.example.net (OpenSMTPD) with ESMTPS id "
       "1 (TLSv1.3:AEAD-AES256-GCM-SHA384:256:NO); Mon, 4 Dec 2023 10:00:00 +0000",
       Protocol::kESMTPS, HopTls::kTrue, TlsEvidence::kColon, Version::kTLSv1_3,
       "AEAD-AES256-GCM-SHA384", 256},
      {"unknown_with_is_other",
       "from a.example.org by b.example.net with FOOBAR id 1; Mon, 4 Dec 2023 10:00:00 +0000",
       Protocol::kOther, HopTls::kUnknown, TlsEvidence::kNone},
      {"no_with_is_unknown",
       "from a.example.org by b.example.net id 1; Mon, 4 Dec 2023 10:00:00 +0000",
       Protocol::kUnknown, HopTls::kUnknown, TlsEvidence::kNone},
      {"lowercase_keywords",
       "FROM a.example.org BY b.example.net WITH esmtpsa ID 1; Mon, 4 Dec 2023 10:00:00 +0000",
       Protocol::kESMTPSA, HopTls::kTrue, TlsEvidence::kProtocol},
  };
  return cases;
}

class DocumentedForms : public ::testing::TestWithParam<FormCase> {};

TEST_P(DocumentedForms, ProtocolAndTls) {
  const FormCase& want = GetParam();
  const Hop got = parseReceived(want.value);
  EXPECT_EQ(toLabel(got.protocol), toLabel(want.protocol));
  EXPECT_EQ(toLabel(got.tls), toLabel(want.tls));
  EXPECT_EQ(toLabel(got.tls_evidence), toLabel(want.evidence));
  EXPECT_EQ(toLabel(got.profile.version), toLabel(want.version));
  EXPECT_EQ(got.cipher, want.cipher);
  EXPECT_EQ(got.cipher_bits, want.bits);
  EXPECT_EQ(toLabel(got.client_cert), toLabel(want.cert));
  EXPECT_FALSE(got.malformed);
  EXPECT_FALSE(got.truncated);
}

INSTANTIATE_TEST_SUITE_P(Received, DocumentedForms, ::testing::ValuesIn(formCases()),
                         [](const ::testing::TestParamInfo<FormCase>& param) {
                           return std::string(param.param.name);
                         });

TEST(DocumentedFormDetails, CipherNamesReachTheAnalyser) {
  // The Microsoft curve suffix and LibreSSL's TLS 1.3 names are translated before analysis.
  const Hop exchange = parseReceived(formCases()[9].value);
  EXPECT_TRUE(exchange.profile.cipher_known);
  EXPECT_EQ(toLabel(exchange.profile.cipher), "AES-256-CBC");
  EXPECT_EQ(toLabel(exchange.profile.mac), "SHA384");
  const Hop libressl = parseReceived(formCases()[20].value);
  EXPECT_TRUE(libressl.profile.cipher_known);
  EXPECT_EQ(toLabel(libressl.profile.cipher), "AES-256-GCM");
  EXPECT_EQ(analyserCipherName("AEAD-CHACHA20-POLY1305-SHA256"), "TLS_CHACHA20_POLY1305_SHA256");
  EXPECT_EQ(analyserCipherName("ECDHE-RSA-AES256-SHA"), "ECDHE-RSA-AES256-SHA");
}

TEST(DocumentedFormDetails, EximTls13WithHeloAndEnvelope) {
  const Hop hop = parseReceived(formCases()[0].value);
  EXPECT_EQ(hop.from_helo, "mail.example.org");
  EXPECT_EQ(hop.from_ip, "192.0.2.1");
  EXPECT_EQ(hop.id, "1qAbCd-000123-4X");
  EXPECT_EQ(hop.for_recipient, "b@example.net");
  EXPECT_EQ(hop.date, "Mon, 04 Dec 2023 10:00:00 +0000");
}

struct ProtocolName {
  const char* text;
  Protocol protocol;
  HopTls tls;
  HopAuth auth;
};

TEST(ParseProtocol, IanaMailTransmissionTypesCaseInsensitive) {
  const std::vector<ProtocolName> names = {
      {"SMTP", Protocol::kSMTP, HopTls::kFalse, HopAuth::kFalse},
      {"esmtp", Protocol::kESMTP, HopTls::kFalse, HopAuth::kFalse},
      {"ESMTPA", Protocol::kESMTPA, HopTls::kFalse, HopAuth::kTrue},
      {"Esmtps", Protocol::kESMTPS, HopTls::kTrue, HopAuth::kFalse},
      {"ESMTPSA", Protocol::kESMTPSA, HopTls::kTrue, HopAuth::kTrue},
      {"lmtp", Protocol::kLMTP, HopTls::kFalse, HopAuth::kFalse},
      {"LMTPA", Protocol::kLMTPA, HopTls::kFalse, HopAuth::kTrue},
      {"LMTPS", Protocol::kLMTPS, HopTls::kTrue, HopAuth::kFalse},
      {"LMTPSA", Protocol::kLMTPSA, HopTls::kTrue, HopAuth::kTrue},
      {"UTF8SMTP", Protocol::kUTF8SMTP, HopTls::kFalse, HopAuth::kFalse},
      {"utf8smtpa", Protocol::kUTF8SMTPA, HopTls::kFalse, HopAuth::kTrue},
      {"UTF8SMTPS", Protocol::kUTF8SMTPS, HopTls::kTrue, HopAuth::kFalse},
      {"UTF8SMTPSA", Protocol::kUTF8SMTPSA, HopTls::kTrue, HopAuth::kTrue},
      {"UTF8LMTP", Protocol::kUTF8LMTP, HopTls::kFalse, HopAuth::kFalse},
      {"UTF8LMTPA", Protocol::kUTF8LMTPA, HopTls::kFalse, HopAuth::kTrue},
      {"UTF8LMTPS", Protocol::kUTF8LMTPS, HopTls::kTrue, HopAuth::kFalse},
      {"UTF8LMTPSA", Protocol::kUTF8LMTPSA, HopTls::kTrue, HopAuth::kTrue},
      {"smtps", Protocol::kSMTPS, HopTls::kTrue, HopAuth::kUnknown},
      {"http", Protocol::kHTTP, HopTls::kFalse, HopAuth::kUnknown},
      {"HTTPS", Protocol::kHTTPS, HopTls::kTrue, HopAuth::kUnknown},
      {"LOCAL", Protocol::kLocal, HopTls::kUnknown, HopAuth::kUnknown},
      {"local-esmtp", Protocol::kLocal, HopTls::kUnknown, HopAuth::kUnknown},
      {"Mapi", Protocol::kMAPI, HopTls::kUnknown, HopAuth::kUnknown},
      {"imap", Protocol::kIMAP, HopTls::kUnknown, HopAuth::kUnknown},
      {"pop3", Protocol::kPOP3, HopTls::kUnknown, HopAuth::kUnknown},
      {"microsoft smtp server", Protocol::kExchange, HopTls::kUnknown, HopAuth::kUnknown},
      {"Microsoft SMTPSVC", Protocol::kSMTPSVC, HopTls::kUnknown, HopAuth::kUnknown},
      {"ESMTPSAX", Protocol::kOther, HopTls::kUnknown, HopAuth::kUnknown},
      {"", Protocol::kOther, HopTls::kUnknown, HopAuth::kUnknown},
  };
  for (const ProtocolName& n : names) {
    SCOPED_TRACE(n.text);
    EXPECT_EQ(toLabel(parseProtocol(n.text)), toLabel(n.protocol));
    EXPECT_EQ(toLabel(protocolTls(n.protocol)), toLabel(n.tls));
    EXPECT_EQ(toLabel(protocolAuth(n.protocol)), toLabel(n.auth));
  }
}

TEST(IsLoopbackAddress, RangesAndForms) {
  EXPECT_TRUE(isLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(isLoopbackAddress("[127.1.2.3]"));
  EXPECT_TRUE(isLoopbackAddress("::1"));
  EXPECT_TRUE(isLoopbackAddress("[IPv6:::1]"));
  EXPECT_TRUE(isLoopbackAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(isLoopbackAddress("128.0.0.1"));
  EXPECT_FALSE(isLoopbackAddress("::2"));
  EXPECT_FALSE(isLoopbackAddress("localhost"));
  EXPECT_FALSE(isLoopbackAddress(""));
}

}  // namespace
}  // namespace mailsec::core::received
