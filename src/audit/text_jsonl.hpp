// Text sets in JSON Lines: one {"id": ..., "text": ...} object per line (audit prompts,
// held-out texts). Every error names the file and line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sg::audit {

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

}  // namespace sg::audit
