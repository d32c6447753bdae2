// Corpus documents by id, from JSON Lines ({"id": ..., "text": ...} per line; other fields
// ignored), plain or zstd-compressed (`.zst`), as models/demo/corpus/ holds them: where the
// human continuation of a held-out prompt is found.
//
// A small reader of the repetition detector's own; the memorization detector reads whole
// corpora and has its own reader (the two may be unified).
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>

namespace sg::detectors::repetition {

struct Document {
  std::string text;
  int line = 0;
};

struct Documents {
  std::map<std::string, Document> by_id;
  std::string sha256;  // of the file's bytes (as stored, compressed or not)
};

// The documents whose id is in `ids` (an integer id in decimal). A line that is not a JSON
// object with a string or integer "id" and a string "text", a repeated id, a corrupt zstd
// stream or an unreadable file is an InputError "FILE:LINE: ..." (or "FILE: ...").
Documents read_documents(const std::filesystem::path& file, const std::set<std::string>& ids);

}  // namespace sg::detectors::repetition
