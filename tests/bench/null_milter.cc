// null_milter — the floor for tests/bench/postfix_milter_throughput.py: a libmilter milter
// that negotiates exactly the protocol steps mailsec-milter does (milter/negotiation.h, with
// or without bodies) and requests the same macros at the same stages, then does nothing —
// every callback returns at once. What Postfix and libmilter cost for such a milter is what
// no milter can avoid; mailsec's own work is what it adds on top. A figure, not a test; it
// must never be installed or used for mail.
//
// usage: bench_null_milter inet:PORT@127.0.0.1 [--body]
#include <libmilter/mfapi.h>

#include <cstdio>
#include <cstring>

#include "milter/milter_session.h"
#include "milter/negotiation.h"

namespace {

bool g_read_body = false;

sfsistat onNegotiate(SMFICTX* ctx, unsigned long, unsigned long, unsigned long, unsigned long,
                     unsigned long* want_actions, unsigned long* want_steps, unsigned long*,
                     unsigned long*) {
  *want_actions = 0;
  *want_steps = mailsec::milter::negotiateSteps(
      static_cast<unsigned long>(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT |
                                 SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN |
                                 SMFIP_NODATA | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL |
                                 SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH |
                                 SMFIP_NR_BODY | SMFIP_NR_HDR | SMFIP_HDR_LEADSPC),
      g_read_body);
  // The macros mailsec asks for, at the same stages, so Postfix sends as much.
  using mailsec::milter::StageMacros;
  smfi_setsymlist(ctx, SMFIM_CONNECT, const_cast<char*>(StageMacros::kConnect));
  smfi_setsymlist(ctx, SMFIM_HELO, const_cast<char*>(StageMacros::kHelo));
  smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>(StageMacros::kEnvFrom));
  smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>(StageMacros::kEndOfMessage));
  return SMFIS_CONTINUE;
}

sfsistat noReplyConnect(SMFICTX*, char*, _SOCK_ADDR*) { return SMFIS_NOREPLY; }
sfsistat noReplyHelo(SMFICTX*, char*) { return SMFIS_NOREPLY; }
sfsistat noReplyArgv(SMFICTX*, char**) { return SMFIS_NOREPLY; }
sfsistat noReplyHeader(SMFICTX*, char*, char*) { return SMFIS_NOREPLY; }
sfsistat noReplyUnknown(SMFICTX*, const char*) { return SMFIS_NOREPLY; }
sfsistat continueCtx(SMFICTX*) { return SMFIS_CONTINUE; }
sfsistat continueBody(SMFICTX*, unsigned char*, size_t) { return SMFIS_CONTINUE; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_null_milter inet:PORT@127.0.0.1 [--body]\n");
    return 2;
  }
  g_read_body = argc > 2 && std::strcmp(argv[2], "--body") == 0;
  smfiDesc desc{};
  desc.xxfi_name = const_cast<char*>("null-milter");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = 0;
  desc.xxfi_connect = noReplyConnect;
  desc.xxfi_helo = noReplyHelo;
  desc.xxfi_envfrom = noReplyArgv;
  desc.xxfi_envrcpt = noReplyArgv;
  desc.xxfi_header = noReplyHeader;
  desc.xxfi_eoh = continueCtx;
  desc.xxfi_body = continueBody;
  desc.xxfi_eom = continueCtx;
  desc.xxfi_abort = continueCtx;
  desc.xxfi_close = continueCtx;
  desc.xxfi_unknown = noReplyUnknown;
  desc.xxfi_data = continueCtx;
  desc.xxfi_negotiate = onNegotiate;
  if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
      smfi_opensocket(true) != MI_SUCCESS) {
    std::fprintf(stderr, "bench_null_milter: cannot listen on %s\n", argv[1]);
    return 1;
  }
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
