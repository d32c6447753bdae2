// Text sets in JSON Lines: one {"id": ..., "text": ...} object per line (audit prompts,
// held-out texts). Every error names the file and line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/ini.hpp"

namespace sg::detectors {

struct TextRecord {
  std::string
      id;  // the "id" field (a string, or an integer written in decimal); else the line number
  std::string text;
  int line = 0;
};

struct TextFile {
  std::vector<TextRecord> records;  // in file order
  std::string sha256;               // of the file's bytes
};

// Blank lines are skipped; other fields are allowed and ignored. Invalid UTF-8, a line that is
// not a JSON object, a missing or non-string "text", a bad or repeated id, or a file with no
// records is an InputError "FILE:LINE: ...".
TextFile read_text_jsonl(const std::filesystem::path& file);

// A path written in a plan or policy: relative to the file's folder unless absolute.
std::filesystem::path plan_relative(const ini::Document& plan, const std::string& path);

// read_text_jsonl of the file `section.key` names; a missing file is reported at the key.
TextFile read_named_text_file(const ini::Document& plan, const std::string& section,
                              const std::string& key, const std::filesystem::path& file);

}  // namespace sg::detectors
