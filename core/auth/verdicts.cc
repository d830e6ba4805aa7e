#include "core/auth/verdicts.h"

#include <algorithm>

namespace mailsec::core::auth {

AuthMethod authMethod(const AuthVerdicts& verdicts) {
  const bool spf = verdicts.spf && verdicts.spf->result == SpfResult::kPass;
  const bool dkim = std::any_of(verdicts.dkim.begin(), verdicts.dkim.end(),
                                [](const DkimVerdict& v) { return v.result == DkimResult::kPass; });
  if (dkim && spf) return AuthMethod::kDkimAndSpf;
  if (dkim) return AuthMethod::kDkimOnly;
  if (spf) return AuthMethod::kSpfOnly;
  return AuthMethod::kNone;
}

}  // namespace mailsec::core::auth
