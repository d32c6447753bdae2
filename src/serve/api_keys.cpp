#include "serve/api_keys.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "model/strict_json.hpp"
#include "release/dates.hpp"
#include "release/request_log.hpp"

namespace sg::serve {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kFormat = 1;
constexpr std::size_t kIdDigits = 12;
constexpr std::size_t kKeyBytes = 24;

bool hex(std::string_view s, std::size_t digits) {
  return s.size() == digits && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool audience_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// "YYYY-MM-DDTHH:MM:SS" and an optional fraction, then "Z", as release::utc_now writes it.
bool utc_time(std::string_view s) {
  if (s.size() < 20 || !release::is_iso_date(s.substr(0, 10)) || s[10] != 'T' || s.back() != 'Z')
    return false;
  const auto time = s.substr(11, s.size() - 12);
  for (std::size_t i = 0; i < time.size(); ++i) {
    const bool colon = i == 2 || i == 5, dot = i == 8;
    if (colon ? time[i] != ':' : dot ? time[i] != '.' : (time[i] < '0' || time[i] > '9'))
      return false;
  }
  return time.size() == 8 || time.size() > 9;
}

std::string random_hex(std::size_t bytes) {
  std::array<unsigned char, 64> buf{};
  std::size_t got = 0;
  while (got < bytes) {
    const auto n = getrandom(buf.data() + got, bytes - got, 0);
    if (n < 0 && errno != EINTR)
      throw RuntimeError(std::string("getrandom: ") + std::strerror(errno));
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kDigits[buf[i] >> 4];
    out += kDigits[buf[i] & 15];
  }
  return out;
}

class Reader {
 public:
  explicit Reader(const fs::path& file) : file_(file) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(file_.string() + ": " + field + ": " + what);
  }

  std::string string(const json& o, const char* key, const std::string& field) const {
    const auto it = o.find(key);
    if (it == o.end() || !it->is_string()) fail(field + "." + key, "missing, or not a string");
    return it->get<std::string>();
  }

  ApiKey key(const json& o, const std::string& field) const {
    if (!o.is_object()) fail(field, "not an object");
    ApiKey k;
    k.id = string(o, "id", field);
    k.audience = string(o, "audience", field);
    k.label = string(o, "label", field);
    k.sha256 = string(o, "sha256", field);
    k.created = string(o, "created", field);
    if (!hex(k.sha256, 64)) fail(field + ".sha256", "not a hex SHA-256");
    if (k.id != k.sha256.substr(0, kIdDigits))
      fail(field + ".id", "'" + k.id + "' is not the first 12 digits of its sha256");
    if (!audience_name(k.audience))
      fail(field + ".audience", "'" + k.audience + "' is not a name (letters, digits, _ or -)");
    if (!utc_time(k.created)) fail(field + ".created", "not a UTC time YYYY-MM-DDTHH:MM:SSZ");
    if (const auto r = o.find("revoked"); r != o.end() && !r->is_null()) {
      if (!r->is_string() || !utc_time(r->get<std::string>()))
        fail(field + ".revoked", "neither null nor a UTC time");
      k.revoked = r->get<std::string>();
    }
    return k;
  }

 private:
  fs::path file_;
};

}  // namespace

KeysFile KeysFile::read(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    KeysFile empty;
    empty.file_ = file;
    return empty;
  }
  return parse(model::read_metadata_file(file), file);
}

KeysFile KeysFile::parse(std::string_view text, const fs::path& file) {
  const Reader r(file);
  const json j = model::parse_strict_json_object(text, file.string());
  const auto format = j.find("stagegate_keys");
  if (format == j.end() || !format->is_number_integer() || format->get<std::int64_t>() != kFormat)
    r.fail("stagegate_keys", "missing, or not format 1 (is this a keys file?)");
  const auto list = j.find("keys");
  if (list == j.end() || !list->is_array()) r.fail("keys", "missing, or not a list");
  KeysFile out;
  out.file_ = file;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string field = "keys[" + std::to_string(i) + "]";
    auto k = r.key((*list)[i], field);
    for (const auto& other : out.keys_)
      if (other.id == k.id) r.fail(field + ".id", "'" + k.id + "' listed twice");
    out.keys_.push_back(std::move(k));
  }
  return out;
}

std::string KeysFile::add(const std::string& audience, const std::string& label) {
  if (!audience_name(audience))
    throw UsageError("--audience '" + audience +
                     "' is not an audience name (letters, digits, '_' or '-')");
  std::string key, hash;
  do {  // 192 random bits: a repeated id (the first 48 bits of the hash) is astronomically rare
    key = "sg-" + random_hex(kKeyBytes);
    hash = sha256_hex(key);
  } while (std::any_of(keys_.begin(), keys_.end(),
                       [&](const ApiKey& k) { return k.id == hash.substr(0, kIdDigits); }));
  keys_.push_back({hash.substr(0, kIdDigits), audience, label, hash, release::utc_now(), {}});
  return key;
}

void KeysFile::revoke(std::string_view id) {
  for (auto& k : keys_) {
    if (k.id != id) continue;
    if (k.revoked)
      throw InputError(file_.string() + ": key " + k.id + " was already revoked at " + *k.revoked);
    k.revoked = release::utc_now();
    return;
  }
  throw InputError(file_.string() + ": no key with id '" + std::string(id) +
                   "' (stagegate keys list shows them)");
}

const ApiKey* KeysFile::find(std::string_view key) const {
  const std::string hash = sha256_hex(key);
  const ApiKey* found = nullptr;
  for (const auto& k : keys_) {
    unsigned char differ = 0;
    for (std::size_t i = 0; i < hash.size(); ++i)
      differ |= static_cast<unsigned char>(hash[i] ^ k.sha256[i]);
    if (differ == 0) found = &k;
  }
  return found;
}

void KeysFile::write() const {
  json list = json::array();
  for (const auto& k : keys_)
    list.push_back({{"id", k.id},
                    {"audience", k.audience},
                    {"label", k.label},
                    {"sha256", k.sha256},
                    {"created", k.created},
                    {"revoked", k.revoked ? json(*k.revoked) : json()}});
  const std::string text = json{{"stagegate_keys", kFormat}, {"keys", list}}.dump(2) + "\n";
  const fs::path temp = file_.string() + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw RuntimeError(temp.string() + ": cannot be created: " + std::strerror(errno));
  std::size_t done = 0;
  int error = 0;
  while (error == 0 && done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0)
      done += static_cast<std::size_t>(n);
    else if (n < 0 && errno != EINTR)
      error = errno;
    else if (n == 0)
      error = EIO;
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  std::error_code ec;
  if (error == 0) fs::rename(temp, file_, ec);
  if (error != 0 || ec) {
    fs::remove(temp, ec);
    throw RuntimeError(file_.string() + ": not written (" +
                       (error ? std::strerror(error) : ec.message()) +
                       "); the previous file is unchanged");
  }
}

}  // namespace sg::serve
