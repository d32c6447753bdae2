// The API keys file `stagegate serve` reads (src/serve/api_keys.cpp): it must be read or
// refused with sg::InputError, and an accepted file is unambiguous (ids unique, each the
// start of its hex hash) and survives being written and read back unchanged.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/errors.hpp"
#include "scratch_file.hpp"
#include "serve/api_keys.hpp"

namespace {

using sg::fuzz::check;

bool same(const sg::serve::ApiKey& a, const sg::serve::ApiKey& b) {
  return a.id == b.id && a.audience == b.audience && a.label == b.label && a.sha256 == b.sha256 &&
         a.created == b.created && a.revoked == b.revoked;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto file = sg::fuzz::scratch().path() / "keys.json";
  try {
    const auto keys = sg::serve::KeysFile::parse(text, file);
    for (std::size_t i = 0; i < keys.keys().size(); ++i) {
      const auto& k = keys.keys()[i];
      check(k.sha256.size() == 64 && k.id == k.sha256.substr(0, 12) && !k.audience.empty());
      for (std::size_t j = 0; j < i; ++j) check(keys.keys()[j].id != k.id);
    }
    keys.write();
    const auto again = sg::serve::KeysFile::read(file);
    check(again.keys().size() == keys.keys().size());
    for (std::size_t i = 0; i < keys.keys().size(); ++i)
      check(same(again.keys()[i], keys.keys()[i]));
  } catch (const sg::InputError& e) {
    sg::fuzz::refused(e);  // a refusal is a correct answer to bad input
  }
  return 0;
}
