// Argon2id password hashes through libsodium's crypto_pwhash_str (algorithm, salt and cost are
// encoded in the stored string, so raising the cost later does not break old hashes).
#include <sodium.h>

#include "common/text.h"
#include "policy/policy.h"

namespace facetrail::policy {

PasswordCost PasswordCost::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}
PasswordCost PasswordCost::Minimum() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Expected<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  if (password.size() < 12) {
    return InvalidArgument("passwords must have at least 12 characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return InvalidArgument("passwords must have at most " + std::to_string(kMaxPasswordBytes) +
                           " bytes");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops_limit,
                            cost.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return ResourceExhausted("Argon2id hashing ran out of memory");
  }
  return std::string(out);
}

bool PasswordMatches(std::string_view stored_hash, std::string_view password) {
  if (sodium_init() < 0) return false;
  std::string h(stored_hash);  // crypto_pwhash_str_verify needs a NUL-terminated string
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

}  // namespace facetrail::policy
