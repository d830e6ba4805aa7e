// ub_config_lock — an LD_PRELOAD shim for the peers in tests/bench/postfix_peers_throughput.py:
// serializes libunbound's ub_ctx_config(). Debian 12's OpenDKIM 2.11 reads its
// ResolverConfiguration file again for every message, from many milter threads at once, and
// unbound's configuration parser keeps its state in globals: a third of the messages got
// "syntax error" and were tempfailed. With one parse at a time, OpenDKIM verifies every
// message (its cost per parse is unchanged). Benchmark only: never loaded into mailsec.
#include <dlfcn.h>
#include <pthread.h>

struct ub_ctx;

namespace {
pthread_mutex_t g_parse_lock = PTHREAD_MUTEX_INITIALIZER;
using ConfigFunction = int (*)(ub_ctx*, const char*);
}  // namespace

extern "C" int ub_ctx_config(ub_ctx* ctx, const char* fname) {
  static const auto real = reinterpret_cast<ConfigFunction>(dlsym(RTLD_NEXT, "ub_ctx_config"));
  if (!real) return -1;  // UB_NOMEM: libunbound is not loaded
  pthread_mutex_lock(&g_parse_lock);
  const int result = real(ctx, fname);
  pthread_mutex_unlock(&g_parse_lock);
  return result;
}
