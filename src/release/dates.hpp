// Release dates: UTC calendar days written YYYY-MM-DD, compared as text (sound only for
// real dates in exactly that form, hence the check).
#pragma once

#include <string>
#include <string_view>

namespace sg::release {

// Whether `text` is a real date written YYYY-MM-DD ("2019-02-30" is not).
bool is_iso_date(std::string_view text);

// Today's date in UTC, YYYY-MM-DD.
std::string utc_today();

}  // namespace sg::release
