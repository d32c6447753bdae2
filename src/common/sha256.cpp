#include "common/sha256.hpp"

#include <openssl/evp.h>

#include "common/errors.hpp"

namespace sg {

struct Sha256::Context {
  EVP_MD_CTX* md = nullptr;
  bool finished = false;
  ~Context() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Context>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
    throw RuntimeError("OpenSSL: SHA-256 unavailable");
}

Sha256::~Sha256() = default;

Sha256& Sha256::update(std::string_view bytes) {
  if (ctx_->finished) throw std::logic_error("Sha256::update after digest");
  EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size());
  return *this;
}

Sha256::Digest Sha256::digest() {
  if (ctx_->finished) throw std::logic_error("Sha256::digest called twice");
  ctx_->finished = true;
  Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out.data(), &len);
  return out;
}

std::string Sha256::hex() {
  return to_hex(digest());
}

std::string to_hex(const Sha256::Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (std::uint8_t b : digest) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  return Sha256().update(bytes).hex();
}

}  // namespace sg
