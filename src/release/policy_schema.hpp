// The parts of reading a policy that are not the Policy itself: the INI schema of its
// sections, the byte-level checks that run before the INI reader sees the text, and the
// family.json comparison `policy check` warns about. Private to src/release/.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/ini.hpp"
#include "release/policy.hpp"

namespace sg::release::detail {

// [family], [stage.*], [requirement.*], [audience.*], [access.*], [filter.*].
const ini::Schema& policy_schema();

// The filter keys of each type, as written in a [filter.NAME] section.
const std::vector<std::string>& leakage_filter_keys();
const std::vector<std::string>& toxicity_filter_keys();
const std::vector<std::string>& repetition_filter_keys();

// InputError "FILE:LINE: ..." for bytes that are not UTF-8 text (binary junk, control
// characters, broken sequences) or a text with nothing but blanks and comments.
void check_policy_text(std::string_view text, const std::filesystem::path& file);

// One warning per stage whose entry in the manifest (family.json) names another
// weights_sha256 than the policy; an InputError naming the manifest when it cannot be read.
std::vector<std::string> manifest_warnings(const Policy& policy);

}  // namespace sg::release::detail
